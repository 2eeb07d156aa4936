"""`ventanilla run` as a real server process on 127.0.0.1, for tests that measure it
(resident memory, latency) apart from the test's own threads."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.settings import PROJECT_ROOT
from tests.conftest import free_port


@dataclass(frozen=True)
class AppProcess:
    url: str
    pid: int
    log: Path


@contextmanager
def app_process(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[AppProcess]:
    port = free_port()
    log = data_dir / "server.log"
    inherited = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full_env = {
        **inherited,
        "PYTHONPATH": str(PROJECT_ROOT),
        "VENTANILLA_DATA_DIR": str(data_dir),
        "VENTANILLA_SERVER_PORT": str(port),
        "NLU_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens: the menu answers
        **(env or {}),
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=PROJECT_ROOT,
            env=full_env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield AppProcess(url, process.pid, log)
    finally:
        process.terminate()  # graceful: uvicorn waits for requests still in flight
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
