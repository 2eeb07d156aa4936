"""Shared fixtures. Fakes stand only at the network edge (the NLU server, platform APIs)."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.content import FileContentStore
from bot.dispatcher import Dispatcher
from bot.engine import build_dispatcher, file_content
from bot.memory_state import InMemoryStateStore
from bot.metrics import Metrics
from bot.ratelimit import RateLimits
from bot.settings import PROJECT_ROOT, Settings, load_settings
from bot.text_resources import TextResources, load_text_resources
from bot.web import WebDeps
from kernel.types import (
    HandoffGate,
    IncomingMessage,
    IntentResult,
    NLUUnavailableError,
    OnHandoff,
)
from nlu.server import LocalRasaServer
from nlu.train import train_model
from tests import pg_cluster

SHARED_EVAL = PROJECT_ROOT.parent / "shared" / "eval" / "dev_nlu.jsonl"


# PostgreSQL for the whole run: TEST_POSTGRES_URL if given, else a throwaway server when the
# binaries are installed (tests/pg_cluster.py), else one clear note of what is skipped.
_POSTGRES = pytest.StashKey[str]()
_CLUSTER = pytest.StashKey[pg_cluster.Cluster]()


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("TEST_POSTGRES_URL"):
        config.stash[_POSTGRES] = "TEST_POSTGRES_URL"
        return
    if os.environ.get("VENTANILLA_TEST_POSTGRES") == "off":
        config.stash[_POSTGRES] = ""
        return
    bindir = pg_cluster.server_binaries()
    if bindir is None:
        config.stash[_POSTGRES] = ""
        return
    try:
        cluster = pg_cluster.start(bindir)
    except (RuntimeError, OSError, KeyError) as exc:
        config.stash[_POSTGRES] = ""
        print(f"could not start a throwaway PostgreSQL: {exc}", flush=True)
        return
    config.stash[_CLUSTER] = cluster
    config.stash[_POSTGRES] = f"a throwaway server from {bindir}"
    os.environ["TEST_POSTGRES_URL"] = cluster.url


def pytest_unconfigure(config: pytest.Config) -> None:
    cluster = config.stash.get(_CLUSTER, None)
    if cluster is not None:
        os.environ.pop("TEST_POSTGRES_URL", None)
        cluster.stop()


def pytest_report_header(config: pytest.Config) -> str:
    source = config.stash.get(_POSTGRES, "")
    return f"postgresql: {source}" if source else "postgresql: none, its tests are SKIPPED"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not config.stash.get(_POSTGRES, ""):
        terminalreporter.write_sep("=", "PostgreSQL tests skipped", yellow=True)
        terminalreporter.write_line(
            "Every storage test has a PostgreSQL twin, and they did not run: "
            + pg_cluster.INSTALL_HINT
            + "."
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    return load_settings(
        env={"VENTANILLA_DATA_DIR": str(data_dir), "VENTANILLA_MODE": "development"}
    )


@pytest.fixture(scope="session")
def content(settings: Settings) -> FileContentStore:
    return file_content(settings)


_TEXT: dict[tuple[Path, Path, tuple[str, ...]], TextResources] = {}


def engine_text(settings: Settings) -> TextResources:
    """The dispatcher's text rules, read once per test session (the app reads them once per
    process in its composition root); they depend only on the training data and word lists."""
    key = (settings.nlu.data_dir, settings.nlu.config, settings.languages)
    if key not in _TEXT:
        _TEXT[key] = load_text_resources(
            settings.nlu.data_dir, settings.nlu.config.parent, settings.languages
        )
    return _TEXT[key]


def web_deps(
    settings: Settings,
    dispatcher: Dispatcher,
    store: Any,
    content: Any,
    database: Any,
    protector: Any,
    limits: RateLimits | None = None,
) -> WebDeps:
    """What the web app serves, as the composition root wires it (limits from settings
    unless the test shares them with the dispatcher's ticket limit)."""
    limits = limits or RateLimits.from_settings(settings.limits, dispatcher.metrics)
    return WebDeps(settings, dispatcher, store, content, database, protector, limits)


@dataclass
class ScriptedClassifier:
    """Stands in for the Rasa server: answers from a table, records what it was asked."""

    table: dict[str, IntentResult] = field(default_factory=dict)
    default: IntentResult = field(default_factory=lambda: IntentResult("out_of_scope", 0.9))
    down: bool = False
    asked: list[str] = field(default_factory=list)

    async def classify(self, text: str) -> IntentResult:
        self.asked.append(text)
        if self.down:
            raise NLUUnavailableError("connection refused")
        return self.table.get(text, self.default)

    async def classify_many(self, texts: Sequence[str]) -> list[IntentResult]:
        return [await self.classify(text) for text in texts]

    def say(self, text: str, intent: str, confidence: float = 0.95, **others: float) -> None:
        ranking = tuple(sorted({intent: confidence, **others}.items(), key=lambda i: -i[1]))
        self.table[text] = IntentResult(intent, confidence, ranking)


@pytest.fixture
def classifier() -> ScriptedClassifier:
    return ScriptedClassifier()


@pytest.fixture
def engine(
    settings: Settings, classifier: ScriptedClassifier, content: FileContentStore
) -> Dispatcher:
    return build_dispatcher(
        settings, classifier, InMemoryStateStore(), content, text=engine_text(settings)
    )


class Conversation:
    """Push a message, get the replies: the errbot-style test backend."""

    def __init__(self, engine: Dispatcher, user_id: str = "user-1", channel: str = "test") -> None:
        self.engine = engine
        self.user_id = user_id
        self.channel = channel
        self.sequence = 0

    async def say(self, text: str = "", **kwargs: object):  # type: ignore[no-untyped-def]
        self.sequence += 1
        message = IncomingMessage(
            channel=self.channel,
            user_id=self.user_id,
            text=text,
            message_id=f"{self.user_id}:m{self.sequence}",
            **kwargs,  # type: ignore[arg-type]
        )
        return await self.engine.handle(message)


@pytest.fixture
def conversation(engine: Dispatcher) -> Conversation:
    return Conversation(engine)


@dataclass
class SqliteStack:
    """A real SQLite file with the schema, a store and an engine wired to a scripted NLU."""

    url: str
    engine: Any
    protector: Any
    store: Any
    classifier: ScriptedClassifier
    dispatcher: Dispatcher


def sqlite_stack(
    settings: Settings,
    content: FileContentStore,
    path: Path,
    metrics: Metrics | None = None,
    on_handoff: OnHandoff | None = None,
    handoff_gate: HandoffGate | None = None,
) -> SqliteStack:
    from bot.db import engine as db
    from bot.db.store import SqlStore
    from bot.privacy import Protector

    url = f"sqlite:///{path}"
    db.upgrade(url)
    engine = db.make_async_engine(url)
    protector = Protector(f"test-secret-{path.stem}-" + "k" * 32)
    store = SqlStore(db.sessions(engine), protector)
    classifier = ScriptedClassifier()
    dispatcher = build_dispatcher(
        settings,
        classifier,
        store,
        content,
        metrics,
        text=engine_text(settings),
        on_handoff=on_handoff,
        handoff_gate=handoff_gate,
    )
    return SqliteStack(url, engine, protector, store, classifier, dispatcher)


def content_text(content: FileContentStore, language: str, key: str) -> str:
    return content.get(language, key).text


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


# A real Rasa model, trained once per test session, served by a real `rasa run` process.


@dataclass(frozen=True)
class RunningNLU:
    url: str
    token: str
    model: Path


@pytest.fixture(scope="session")
def trained_model(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    reuse = os.environ.get("VENTANILLA_TEST_MODEL")  # local iteration only; CI always trains
    if reuse:
        return Path(reuse)
    return train_model(
        settings.nlu.config,
        tmp_path_factory.mktemp("models"),
        data_dir=settings.nlu.data_dir,
        report=lambda line: print(line, flush=True),
    )


@pytest.fixture(scope="session")
def nlu_server(
    trained_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningNLU]:
    log_path = tmp_path_factory.mktemp("nlu-log") / "rasa.log"
    server = LocalRasaServer(trained_model, free_port(), log_path)
    server.start()
    try:
        asyncio.run(server.wait_until_ready(240))
        yield RunningNLU(server.url, server.auth_token, trained_model)
    finally:
        server.stop()


__all__ = ["Conversation", "RunningNLU", "ScriptedClassifier", "content_text", "free_port"]
