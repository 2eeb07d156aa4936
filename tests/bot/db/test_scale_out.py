"""Two uvicorn workers on one database: retried webhooks answered once, nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.db import engine as db
from bot.db.models import Message
from bot.settings import PROJECT_ROOT
from tests.conftest import free_port
from tests.fakes.nlu_server import fake_nlu
from tests.fakes.server import serve

pytestmark = pytest.mark.slow  # two worker processes

TOKEN = "scale-out-token"
PUBLIC = "https://bot.example.org"
MESSAGES = 40
RETRIES = 3


def _post(url: str, sid: str, body: str) -> httpx.Response:
    params = {"From": f"whatsapp:+5037{sid[-7:]}", "Body": body, "MessageSid": sid, "NumMedia": "0"}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/webhooks/whatsapp", params)
    return httpx.post(
        f"{url}/webhooks/whatsapp",
        data=params,
        headers={"X-Twilio-Signature": signature},
        timeout=30,
    )


def test_two_workers_answer_retries_once_and_lose_nothing(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    with serve(fake_nlu("documents")) as nlu_url:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "NLU_URL": nlu_url,
            "VENTANILLA_SERVER_PORT": str(port),
            "VENTANILLA_DATA_DIR": str(tmp_path),
            "VENTANILLA_SECRET_KEY": "scale-out-secret-" + "s" * 40,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_ACCOUNT_SID": "AC" + "3" * 32,
            "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
            "PUBLIC_BASE_URL": PUBLIC,
        }
        log = (tmp_path / "server.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--workers", "2"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                assert process.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
            jobs = [
                (f"SM{n:032d}", f"necesito el pasaporte {n}") for n in range(MESSAGES)
            ] * RETRIES
            with ThreadPoolExecutor(12) as pool:
                responses = list(pool.map(lambda job: (job[0], _post(url, *job)), jobs))
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert all(r.status_code == 200 for _, r in responses)
    answered: dict[str, int] = {}
    for sid, response in responses:
        answered[sid] = answered.get(sid, 0) + ("<Message>" in response.text)
    assert answered == {f"SM{n:032d}": 1 for n in range(MESSAGES)}
    engine = db.make_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                select(func.count()).select_from(Message).where(Message.direction == "in")
            ).scalar()
    finally:
        engine.dispose()
    assert stored == MESSAGES
    server_log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in server_log, server_log[-3000:]
