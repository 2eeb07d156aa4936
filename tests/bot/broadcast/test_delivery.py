"""Paced delivery through the real Telegram and Twilio clients to local fake platforms."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content import FileContentStore
from bot.db.broadcasts import BroadcastJobs
from bot.db.models import utcnow
from bot.db.store import SqlStore
from bot.db.subscriptions import Subscriptions
from bot.db.web_outbox import WebOutbox
from bot.privacy import Protector
from tests.bot.broadcast.helpers import (
    ACCOUNT,
    AUTH,
    TEMPLATE,
    TOKEN,
    approved_job,
    chat,
    config,
    max_in_any_second,
    phone,
    runner,
    subscribe,
)
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioAPI


@pytest.fixture
def telegram() -> Iterator[tuple[FakeBotAPI, str]]:
    fake = FakeBotAPI(TOKEN)
    with serve(fake.app()) as url:
        yield fake, url


@pytest.fixture
def twilio() -> Iterator[tuple[FakeTwilioAPI, str]]:
    fake = FakeTwilioAPI(ACCOUNT, AUTH)
    with serve(fake.app()) as url:
        yield fake, url


async def test_a_thousand_subscribers_get_the_announcement_exactly_once(
    database: AsyncEngine,
    protector: Protector,
    content: FileContentStore,
    telegram: tuple[FakeBotAPI, str],
    twilio: tuple[FakeTwilioAPI, str],
) -> None:
    tg, tg_url = telegram
    tw, tw_url = twilio
    await subscribe(database, protector, "telegram", [chat(i) for i in range(500)])
    await subscribe(database, protector, "whatsapp", [phone(i) for i in range(490)])
    await subscribe(database, protector, "web", [f"page-{i}" for i in range(10)])
    job_id = await approved_job(database)
    # Higher ceilings than the defaults keep this test short; the limits are still checked.
    cfg = config(telegram_per_second=300, twilio_per_second=150, telegram_chat_seconds=1.0)
    async with runner(database, protector, content, tg_url, tw_url, cfg) as worker:
        assert await worker.run_once() == 1
    telegram_counts = Counter(str(c.params["chat_id"]) for c in tg.sent())
    whatsapp_counts = Counter(m["To"] for m in tw.messages)
    assert telegram_counts == Counter({chat(i): 1 for i in range(500)})
    assert whatsapp_counts == Counter({phone(i): 1 for i in range(490)})
    assert all(c.params["text"].endswith("cancelar avisos") for c in tg.sent())
    assert all(m["Body"].startswith("Aviso: el puente") for m in tw.messages)
    outbox = WebOutbox(database, protector)
    assert [len(await outbox.pending(f"page-{i}")) for i in range(10)] == [1] * 10
    assert max_in_any_second([c.at for c in tg.sent()]) <= 300
    assert max_in_any_second(tw.times) <= 150
    progress = await BroadcastJobs(database).progress(job_id)
    assert (progress.sent, progress.failed, progress.left) == (1000, 0, 0)
    job = await BroadcastJobs(database).get(job_id)
    assert job is not None and job.status == "done"


async def test_default_limits_hold_per_second(
    database: AsyncEngine,
    protector: Protector,
    content: FileContentStore,
    telegram: tuple[FakeBotAPI, str],
    twilio: tuple[FakeTwilioAPI, str],
) -> None:
    tg, tg_url = telegram
    tw, tw_url = twilio
    await subscribe(database, protector, "telegram", [chat(i) for i in range(60)])
    await subscribe(database, protector, "whatsapp", [phone(i) for i in range(24)])
    await approved_job(database)
    cfg = config()  # 25/s Telegram, 10/s Twilio: the shipped defaults
    assert (cfg.telegram_per_second, cfg.twilio_per_second) == (25, 10)
    async with runner(database, protector, content, tg_url, tw_url, cfg) as worker:
        await worker.run_once()
    assert len(tg.sent()) == 60 and len(tw.messages) == 24
    assert max_in_any_second([c.at for c in tg.sent()]) <= 25
    assert max_in_any_second(tw.times) <= 10


async def test_blocked_opted_out_and_outside_the_window(
    database: AsyncEngine,
    protector: Protector,
    content: FileContentStore,
    telegram: tuple[FakeBotAPI, str],
    twilio: tuple[FakeTwilioAPI, str],
) -> None:
    tg, tg_url = telegram
    tw, tw_url = twilio
    await subscribe(database, protector, "telegram", [chat(1), chat(2)])
    await subscribe(database, protector, "whatsapp", [phone(1), phone(2)])
    await subscribe(database, protector, "whatsapp", [phone(3)], wrote_hours_ago=30)
    tg.blocked.add(chat(2))
    tw.refuse_to[phone(2)] = 21610
    job_id = await approved_job(database)
    async with runner(database, protector, content, tg_url, tw_url, config()) as worker:
        await worker.run_once()
    assert [str(c.params["chat_id"]) for c in tg.sent()] == [chat(1)]
    by_to = {m["To"]: m for m in tw.messages}
    assert set(by_to) == {phone(1), phone(3)}
    assert by_to[phone(3)].get("ContentSid") == TEMPLATE and "Body" not in by_to[phone(3)]
    assert by_to[phone(1)]["Body"].startswith("Aviso")
    subscriptions = Subscriptions(database, protector)
    assert await subscriptions.topics_of("telegram", chat(2)) == []
    assert await subscriptions.topics_of("whatsapp", phone(2)) == []
    assert await subscriptions.topics_of("telegram", chat(1)) == ["route_safety"]
    progress = await BroadcastJobs(database).progress(job_id)
    assert (progress.sent, progress.failed) == (3, 2)
    assert progress.by_mode == {"telegram": 1, "free_text": 1, "template": 1}


async def test_unsubscribed_and_erased_people_receive_nothing(
    database: AsyncEngine,
    store: SqlStore,
    protector: Protector,
    content: FileContentStore,
    telegram: tuple[FakeBotAPI, str],
) -> None:
    tg, tg_url = telegram
    await subscribe(database, protector, "telegram", [chat(i) for i in range(4)])
    jobs = BroadcastJobs(database)
    job_id = await approved_job(database)
    await jobs.start(job_id)  # recipients fixed; then two people leave before sending
    await Subscriptions(database, protector).unsubscribe("telegram", chat(1))
    await store.forget("telegram", chat(2))
    async with runner(database, protector, content, tg_url, None, config()) as worker:
        await worker.run_once()
    assert sorted(str(c.params["chat_id"]) for c in tg.sent()) == [chat(0), chat(3)]
    progress = await jobs.progress(job_id)
    assert (progress.sent, progress.skipped) == (2, 2)


async def test_rate_limits_and_server_errors_are_waited_out(
    database: AsyncEngine,
    protector: Protector,
    content: FileContentStore,
    telegram: tuple[FakeBotAPI, str],
    twilio: tuple[FakeTwilioAPI, str],
) -> None:
    tg, tg_url = telegram
    tw, tw_url = twilio
    await subscribe(database, protector, "telegram", [chat(1)])
    await subscribe(database, protector, "whatsapp", [phone(1)])
    tg.rate_limit_next, tg.retry_after, tg.fail_next = 1, 1, 0
    tw.rate_limit_next, tw.retry_after = 1, 1
    await approved_job(database)
    async with runner(database, protector, content, tg_url, tw_url, config()) as worker:
        await worker.run_once()
    calls = [c.at for c in tg.named("sendMessage")]
    assert len(calls) == 2 and len(tg.sent()) == 2
    assert calls[1] - calls[0] >= 1.0  # retry_after honoured, by the platform's clock
    attempts = [(status, at) for _, at, status in tw.attempts]
    assert [s for s, _ in attempts] == [429, 201]
    assert attempts[1][1] - attempts[0][1] >= 1.0  # Retry-After honoured
    assert len(tw.messages) == 1


async def test_cancel_while_sending_stops_the_rest(
    database: AsyncEngine,
    protector: Protector,
    content: FileContentStore,
    telegram: tuple[FakeBotAPI, str],
) -> None:
    tg, tg_url = telegram
    await subscribe(database, protector, "telegram", [chat(i) for i in range(10)])
    jobs = BroadcastJobs(database)
    job_id = await approved_job(database)
    await jobs.start(job_id)
    await jobs.cancel(job_id)
    async with runner(database, protector, content, tg_url, None, config()) as worker:
        await worker.run_once()
    assert tg.sent() == []
    progress = await jobs.progress(job_id)
    assert (progress.sent, progress.skipped, progress.left) == (0, 10, 0)


async def test_silent_subscribers_get_a_last_notice_and_are_removed(
    database: AsyncEngine,
    protector: Protector,
    content: FileContentStore,
    telegram: tuple[FakeBotAPI, str],
) -> None:
    tg, tg_url = telegram
    await subscribe(database, protector, "telegram", [chat(1)], wrote_hours_ago=181 * 24)
    await subscribe(database, protector, "telegram", [chat(2)], wrote_hours_ago=24)
    subscriptions = Subscriptions(database, protector)
    async with runner(database, protector, content, tg_url, None, config()) as worker:
        expired = await worker._expire_inactive(now=utcnow())
    assert expired == 1
    assert [str(c.params["chat_id"]) for c in tg.sent()] == [chat(1)]
    assert "180" in tg.sent()[0].params["text"]
    assert await subscriptions.topics_of("telegram", chat(1)) == []
    assert await subscriptions.topics_of("telegram", chat(2)) == ["route_safety"]
