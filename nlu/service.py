"""The NLU endpoint the app uses: the configured NLU_URL, or a local Rasa server it starts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings
from nlu.server import LocalRasaServer, newest_model
from nlu.train import train_model


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
        old.stop()

    def stop(self) -> None:
        if self.local is not None:
            self.local.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def model_is_stale(model: Path | None, data_dir: Path, config: Path) -> bool:
    if model is None:
        return True
    newest_input = max(
        [config.stat().st_mtime, *(p.stat().st_mtime for p in data_dir.rglob("*.yml"))]
    )
    return newest_input > model.stat().st_mtime


def ensure_model(settings: Settings, report: Callable[[str], None]) -> Path:
    """The newest model; trains one first when there is none or the data changed since."""
    model = newest_model(settings.nlu.models_dir)
    if model_is_stale(model, settings.nlu.data_dir, settings.nlu.config):
        report("No up-to-date NLU model: training one (a few seconds) ...")
        model = train_model(
            settings.nlu.config,
            settings.nlu.models_dir,
            data_dir=settings.nlu.data_dir,
            report=report,
        )
    assert model is not None
    return model


@asynccontextmanager
async def nlu_endpoint(
    settings: Settings, report: Callable[[str], None]
) -> AsyncIterator[Endpoint]:
    if settings.nlu.url:
        yield Endpoint(settings.nlu.url, settings.nlu.auth_token)
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
        yield endpoint
    finally:
        endpoint.stop()
