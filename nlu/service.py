"""The NLU endpoint the app uses: the configured NLU_URL, or a local Rasa server it starts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings
from nlu.server import LocalRasaServer, newest_model
from nlu.train import train_model


@dataclass(frozen=True)
class Endpoint:
    url: str
    auth_token: str


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
        report("No up-to-date NLU model: training one (about a minute) ...")
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
    try:
        last = [0.0]

        def progress(elapsed: float) -> None:
            if elapsed - last[0] >= 10:
                last[0] = elapsed
                report(f"  still loading the model ({elapsed:.0f}s)")

        await server.wait_until_ready(settings.nlu.startup_timeout_seconds, progress)
        report("NLU server ready.")
        yield Endpoint(server.url, server.auth_token)
    finally:
        server.stop()
