"""The NLU endpoint the app uses: the configured NLU_URL, or a local Rasa server it starts.

App-side (it reads the app's settings and publishes the running server for `ask` and
`chat`); `nlu/` keeps serving Rasa and deciding when a model is stale.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from bot.nlu_client import RasaClient
from bot.settings import Settings
from nlu.freshness import ensure_model
from nlu.server import LocalRasaServer, NLUServerError

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


def _publish(data_dir: Path, endpoint: Endpoint) -> Path:
    path = data_dir / RUNNING_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(
            {"url": endpoint.url, "auth_token": endpoint.auth_token, "pid": os.getpid()}, handle
        )
    return path


@contextmanager
def published(data_dir: Path, endpoint: Endpoint) -> Iterator[None]:
    """Leave the server's address and token in the data folder while it runs, for `ask`,
    `chat` and the workers of `ventanilla run --workers N` (never in the environment)."""
    path = _publish(data_dir, endpoint)
    try:
        yield
    finally:
        with suppress(OSError, ValueError):
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()


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
    settings: Settings,
    report: Callable[[str], None],
    reuse_running: bool = False,
    only_running: bool = False,
) -> AsyncIterator[Endpoint]:
    """The configured NLU_URL; or, with `reuse_running`, a local server already running
    (`ventanilla run` in another terminal); or a local server started here. A worker of
    `ventanilla run --workers N` (`only_running`) uses the server its parent published."""
    if settings.nlu.url:
        yield Endpoint(settings.nlu.url, settings.nlu.auth_token)
        return
    if reuse_running or only_running:
        running = await running_endpoint(settings)
        if running is not None:
            report(f"Using the NLU server running on {running.url}.")
            yield running
            return
        if only_running:
            raise NLUServerError(
                f"the shared NLU server does not answer; see {settings.data_dir / 'nlu-server.log'}"
            )
    nlu = settings.nlu
    model = ensure_model(nlu.config, nlu.models_dir, nlu.data_dir, report)
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
        with published(settings.data_dir, endpoint):
            yield endpoint
    finally:
        endpoint.stop()
