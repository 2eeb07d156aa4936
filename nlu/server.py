"""Start and stop a local Rasa NLU server in its own virtual environment.

Used when no NLU_URL is configured, so one command runs the whole bot. The
server binds to 127.0.0.1, requires a token (passed in the environment, never
on the command line), runs quietly (Rasa logs message
texts at debug level) and has telemetry off.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = PROJECT_ROOT / "nlu" / "credentials.yml"
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class NLUServerError(Exception):
    """The local NLU server could not be started; the message says why."""


def rasa_executable(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ if env is None else env)
    candidate = Path(env.get("RASA_BIN", str(PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa")))
    if not candidate.exists():
        raise NLUServerError(
            f"Rasa is not installed at {candidate}. Run `make setup` (needs Python 3.10)."
        )
    return candidate


def rasa_env(base: dict[str, str] | None = None, log_level: str = "WARNING") -> dict[str, str]:
    """Rasa's environment; serving stays at WARNING because Rasa logs texts at DEBUG/INFO."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "LOG_LEVEL": log_level,
            "LOG_LEVEL_LIBRARIES": "ERROR",
            "SANIC_ACCESS_LOG": "False",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONWARNINGS": "ignore",
        }
    )
    # One thread per math library. The pipeline runs one short text at a time, and an
    # idle OpenBLAS/OpenMP pool spins on its cores between parses: measured through
    # `/model/parse`, it doubled the server's CPU per parse (28 ms -> 14 ms with one
    # thread) for no gain in speed. The encoder already limits itself while it runs;
    # this covers everything else (the classifier's products, the novelty check).
    for variable in BLAS_THREAD_VARIABLES:
        env.setdefault(variable, "1")
    # The pipeline names our own components (`nlu.components.*`) by module path.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
    )
    return env


def newest_model(models_dir: Path) -> Path | None:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


async def serves_a_model(client: httpx.AsyncClient, url: str, auth_token: str) -> bool:
    """Whether the Rasa server at `url` answers `/status` with a loaded model."""
    params = {"token": auth_token} if auth_token else {}
    try:
        response = await client.get(f"{url.rstrip('/')}/status", params=params)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and bool(response.json().get("model_file"))


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


class LocalRasaServer:
    """A `rasa run --enable-api` child process serving one model."""

    def __init__(
        self,
        model: Path,
        port: int,
        log_path: Path,
        auth_token: str | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.model = model
        self.port = port
        self.host = host
        self.log_path = log_path
        self.auth_token = auth_token or secrets.token_urlsafe(24)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        if not self.model.exists():
            raise NLUServerError(f"no model at {self.model}; run `ventanilla nlu train`")
        if _port_in_use(self.host, self.port):
            raise NLUServerError(
                f"port {self.port} is already in use (another NLU server?); stop it or set"
                " VENTANILLA_NLU_PORT, or point NLU_URL at a running server"
            )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # The token travels in the environment, not on the command line (`ps` shows that).
        command = [
            str(rasa_executable().with_name("python")),
            "-m",
            "nlu.rasa_launch",
            "run",
            "--enable-api",
            "--quiet",
            "--interface",
            self.host,
            "--port",
            str(self.port),
            "--model",
            str(self.model),
            # Adds the batch parse route (nlu/components/batch_parse.py) next to Rasa's API.
            "--credentials",
            str(CREDENTIALS),
        ]
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                command,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={
                    **rasa_env(),
                    "NLU_AUTH_TOKEN": self.auth_token,
                    # The server stops when this process dies (nlu/rasa_launch.py).
                    "NLU_PARENT_PID": str(os.getpid()),
                },
                cwd=str(self.log_path.parent),
                start_new_session=True,
            )

    async def wait_until_ready(
        self, timeout_seconds: float, progress: Callable[[float], None] | None = None
    ) -> None:
        client = httpx.AsyncClient(timeout=httpx.Timeout(2.0))
        started = time.monotonic()
        try:
            while True:
                if self._process is not None and self._process.poll() is not None:
                    raise NLUServerError(
                        f"the NLU server exited with code {self._process.returncode};"
                        f" see {self.log_path}"
                    )
                if await serves_a_model(client, self.url, self.auth_token):
                    return
                elapsed = time.monotonic() - started
                if elapsed > timeout_seconds:
                    raise NLUServerError(
                        f"the NLU server was not ready after {timeout_seconds:.0f}s;"
                        f" see {self.log_path}"
                    )
                if progress is not None:
                    progress(elapsed)
                await asyncio.sleep(1.0)
        finally:
            await client.aclose()

    def stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        self._process = None
