"""Shared fixtures. Fakes stand only at the network edge (the NLU server, platform APIs)."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.content import FileContentStore
from bot.core import IncomingMessage, IntentResult, NLUUnavailableError
from bot.dispatcher import Dispatcher
from bot.engine import build_dispatcher, file_content
from bot.memory_state import InMemoryStateStore
from bot.settings import PROJECT_ROOT, Settings, load_settings

SHARED_EVAL = PROJECT_ROOT.parent / "shared" / "eval" / "dev_nlu.jsonl"


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
    return build_dispatcher(settings, classifier, InMemoryStateStore(), content)


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
            message_id=f"m{self.sequence}",
            **kwargs,  # type: ignore[arg-type]
        )
        return await self.engine.handle(message)


@pytest.fixture
def conversation(engine: Dispatcher) -> Conversation:
    return Conversation(engine)


def content_text(content: FileContentStore, language: str, key: str) -> str:
    return content.get(language, key).text


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


__all__ = ["Conversation", "ScriptedClassifier", "content_text", "free_port"]
