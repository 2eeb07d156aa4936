"""A send job survives a killed worker, and only one worker sends at a time."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content import FileContentStore
from bot.db import engine as db
from bot.db.broadcasts import BroadcastJobs
from bot.privacy import Protector
from bot.settings import PROJECT_ROOT
from tests.bot.broadcast.helpers import (
    ACCOUNT,
    AUTH,
    SENDER,
    TEMPLATE,
    TOKEN,
    approved_job,
    chat,
    config,
    phone,
    runner,
    subscribe,
)
from tests.bot.conftest import SECRET
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioAPI

pytestmark = pytest.mark.slow  # worker processes killed and racing

TELEGRAM_PEOPLE, WHATSAPP_PEOPLE = 80, 40


@pytest.fixture
def fakes() -> Iterator[tuple[FakeBotAPI, str, FakeTwilioAPI, str]]:
    tg, tw = FakeBotAPI(TOKEN), FakeTwilioAPI(ACCOUNT, AUTH)
    with serve(tg.app()) as tg_url, serve(tw.app()) as tw_url:
        yield tg, tg_url, tw, tw_url


def _wait(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _worker(database_url: str, tg_url: str, tw_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "DATABASE_URL": database_url,
        "VENTANILLA_SECRET_KEY": SECRET,
        "VENTANILLA_DATA_DIR": str(log.parent),
        "VENTANILLA_MODE": "development",
        "VENTANILLA_BROADCAST_LEASE_SECONDS": "1.5",
        "VENTANILLA_BROADCAST_POLL_SECONDS": "0.1",
        "VENTANILLA_BROADCAST_TELEGRAM_PER_SECOND": "60",
        "VENTANILLA_BROADCAST_TWILIO_PER_SECOND": "30",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": tg_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": AUTH,
        "TWILIO_WHATSAPP_FROM": SENDER,
        "TWILIO_TEMPLATE_SID": TEMPLATE,
        "TWILIO_API_BASE_URL": tw_url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.broadcast.worker", "--until-idle"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def test_worker_killed_mid_send_finishes_without_duplicate_or_loss(
    database_url: str,
    database: AsyncEngine,
    protector: Protector,
    fakes: tuple[FakeBotAPI, str, FakeTwilioAPI, str],
    tmp_path: Path,
) -> None:
    tg, tg_url, tw, tw_url = fakes
    await subscribe(database, protector, "telegram", [chat(i) for i in range(TELEGRAM_PEOPLE)])
    await subscribe(database, protector, "whatsapp", [phone(i) for i in range(WHATSAPP_PEOPLE)])
    job_id = await approved_job(database)
    log = tmp_path / "worker.log"

    first = _worker(database_url, tg_url, tw_url, log)
    try:
        await asyncio.to_thread(_wait, lambda: len(tg.sent()) >= 25, "the first messages")
        # Park the next request on each platform, unprocessed, then kill the worker while
        # it waits for the answer: the hardest moment for "no duplicate, no loss".
        tg.hold = tw.hold = True
        await asyncio.to_thread(
            _wait,
            lambda: tg.held >= 1 and (tw.held >= 1 or len(tw.messages) == WHATSAPP_PEOPLE),
            "both lanes to be mid-request",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    assert len(tg.sent()) < TELEGRAM_PEOPLE  # it really was stopped mid-send
    tg.hold = tw.hold = False

    second = _worker(database_url, tg_url, tw_url, log)
    assert await asyncio.to_thread(second.wait, 120) == 0, log.read_text()

    assert Counter(str(c.params["chat_id"]) for c in tg.sent()) == Counter(
        {chat(i): 1 for i in range(TELEGRAM_PEOPLE)}
    )
    assert Counter(m["To"] for m in tw.messages) == Counter(
        {phone(i): 1 for i in range(WHATSAPP_PEOPLE)}
    )
    jobs = BroadcastJobs(database)
    progress = await jobs.progress(job_id)
    assert (progress.sent, progress.left) == (TELEGRAM_PEOPLE + WHATSAPP_PEOPLE, 0)
    job = await jobs.get(job_id)
    assert job is not None and job.status == "done"


async def test_two_workers_one_sender(
    database_url: str,
    database: AsyncEngine,
    protector: Protector,
    content: FileContentStore,
    fakes: tuple[FakeBotAPI, str, FakeTwilioAPI, str],
) -> None:
    """Two workers with their own connection pools race for the same job."""
    tg, tg_url, _, _ = fakes
    await subscribe(database, protector, "telegram", [chat(i) for i in range(40)])
    await approved_job(database)
    other = db.make_async_engine(database_url)
    cfg = config(telegram_per_second=200)
    try:
        async with (
            runner(database, protector, content, tg_url, None, cfg, "worker-a") as a,
            runner(other, protector, content, tg_url, None, cfg, "worker-b") as b,
        ):
            ran = await asyncio.gather(a.run_once(), b.run_once())
            # Exactly one of them got the lease and ran the job; the other sent nothing.
            assert sorted(ran) == [0, 1]
            assert await a.run_once() + await b.run_once() == 0  # nothing left to do
            # The lease is still held by the worker that ran: a third one is refused.
            assert await BroadcastJobs(other).acquire_lease("worker-c", 30) is False
    finally:
        await other.dispose()
    assert Counter(str(c.params["chat_id"]) for c in tg.sent()) == Counter(
        {chat(i): 1 for i in range(40)}
    )
