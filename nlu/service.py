"""The NLU endpoint the app uses: the configured NLU_URL, or a local Rasa server it starts."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings
from nlu.client import RasaClient
from nlu.server import LocalRasaServer, newest_model
from nlu.train import train_model

# Where a running local NLU server leaves its address and token (mode 0600, in the data
# folder) so that `ventanilla ask` and `chat` use it instead of starting a second one.
RUNNING_FILE = "nlu-server.json"


@dataclass
class Endpoint:
    url: str
    auth_token: str
    local: LocalRasaServer | None = None
    log_dir: Path | None = None

    async def swap(self, model: Path, timeout_seconds: float) -> None:
        """Serve `model` from a fresh server, then retire the old one.

        Rasa's `PUT /model` grows the server's memory at every swap (RasaHQ/rasa#11284),
        so a new process is started instead; callers switch their client to `url`.
        """
        if self.local is None or self.log_dir is None:
            raise RuntimeError("the NLU server is external (NLU_URL); deploy the model there")
        fresh = await self.start_candidate(model, timeout_seconds)
        self.adopt(fresh)

    async def start_candidate(self, model: Path, timeout_seconds: float) -> LocalRasaServer:
        """A second server on a free port, e.g. to evaluate a model before it is served."""
        log_dir = self.log_dir or model.parent
        fresh = LocalRasaServer(model, _free_port(), log_dir / "nlu-candidate.log")
        fresh.start()
        try:
            await fresh.wait_until_ready(timeout_seconds)
        except Exception:
            fresh.stop()
            raise
        return fresh

    def adopt(self, fresh: LocalRasaServer) -> None:
        """Serve from an already running server and stop the old one."""
        if self.local is None:
            raise RuntimeError("the NLU server is external (NLU_URL); deploy the model there")
        old, self.local = self.local, fresh
        self.url, self.auth_token = fresh.url, fresh.auth_token
        if self.log_dir is not None and (self.log_dir / RUNNING_FILE).exists():
            _publish(self.log_dir, self)  # `ask` and `chat` follow the swap
        old.stop()

    def stop(self) -> None:
        if self.local is not None:
            self.local.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def inputs_fingerprint(data_dir: Path, config: Path) -> str:
    """A hash of what a model is trained from: the pipeline and every training file."""
    digest = hashlib.sha256(config.read_bytes())
    for path in sorted(data_dir.rglob("*.yml")):
        digest.update(str(path.relative_to(data_dir)).encode() + b"\x00" + path.read_bytes())
    return digest.hexdigest()


def _fingerprint_file(model: Path) -> Path:
    return model.with_name(model.name + ".inputs")


def model_is_stale(model: Path | None, data_dir: Path, config: Path) -> bool:
    """Stale when the training inputs differ from the model's; by content when the model
    records them (a fresh checkout's file times say nothing), else by modification time."""
    if model is None:
        return True
    recorded = _fingerprint_file(model)
    if recorded.exists():
        return recorded.read_text().strip() != inputs_fingerprint(data_dir, config)
    newest_input = max(
        [config.stat().st_mtime, *(p.stat().st_mtime for p in data_dir.rglob("*.yml"))]
    )
    return newest_input > model.stat().st_mtime


def ensure_model(settings: Settings, report: Callable[[str], None]) -> Path:
    """The newest model; trains one first when there is none or the data changed since."""
    model = newest_model(settings.nlu.models_dir)
    if model_is_stale(model, settings.nlu.data_dir, settings.nlu.config):
        report("No up-to-date NLU model: training one (a few seconds) ...")
        model = train_recorded(settings, report)
    assert model is not None
    return model


def served_model_is_stale(settings: Settings) -> bool:
    model = newest_model(settings.nlu.models_dir)
    return model_is_stale(model, settings.nlu.data_dir, settings.nlu.config)


def train_recorded(settings: Settings, report: Callable[[str], None]) -> Path:
    """Train, and record what the model was trained from (see `model_is_stale`)."""
    fingerprint = inputs_fingerprint(settings.nlu.data_dir, settings.nlu.config)
    model = train_model(
        settings.nlu.config, settings.nlu.models_dir, data_dir=settings.nlu.data_dir, report=report
    )
    _fingerprint_file(model).write_text(fingerprint + "\n")
    return model


def _publish(data_dir: Path, endpoint: Endpoint) -> Path:
    path = data_dir / RUNNING_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(
            {"url": endpoint.url, "auth_token": endpoint.auth_token, "pid": os.getpid()}, handle
        )
    return path


async def running_endpoint(settings: Settings) -> Endpoint | None:
    """The local NLU server another command started (and published), if it answers."""
    if settings.nlu.url:
        return None
    try:
        found = json.loads((settings.data_dir / RUNNING_FILE).read_text())
        url, token = str(found["url"]), str(found["auth_token"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    client = RasaClient(url, token, timeout_seconds=2.0)
    try:
        return Endpoint(url, token) if await client.is_ready() else None
    finally:
        await client.aclose()


@asynccontextmanager
async def nlu_endpoint(
    settings: Settings, report: Callable[[str], None], reuse_running: bool = False
) -> AsyncIterator[Endpoint]:
    """The configured NLU_URL; or, with `reuse_running`, a local server already running
    (`ventanilla run` in another terminal); or a local server started here."""
    if settings.nlu.url:
        yield Endpoint(settings.nlu.url, settings.nlu.auth_token)
        return
    if reuse_running:
        running = await running_endpoint(settings)
        if running is not None:
            report(f"Using the NLU server running on {running.url}.")
            yield running
            return
    model = ensure_model(settings, report)
    server = LocalRasaServer(
        model=model,
        port=settings.nlu.port,
        log_path=settings.data_dir / "nlu-server.log",
        auth_token=settings.nlu.auth_token or None,
    )
    report(f"Starting the NLU server on {server.url} with {model.name} ...")
    server.start()
    endpoint = Endpoint(server.url, server.auth_token, server, settings.data_dir)
    try:
        last = [0.0]

        def progress(elapsed: float) -> None:
            if elapsed - last[0] >= 10:
                last[0] = elapsed
                report(f"  still loading the model ({elapsed:.0f}s)")

        await server.wait_until_ready(settings.nlu.startup_timeout_seconds, progress)
        report("NLU server ready.")
        published = _publish(settings.data_dir, endpoint)
        try:
            yield endpoint
        finally:
            with suppress(OSError):
                if json.loads(published.read_text()).get("pid") == os.getpid():
                    published.unlink()
    finally:
        endpoint.stop()
