"""Shared set-up for the delivery tests: fake platforms, subscribers, senders, a runner."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot

from bot.broadcast.config import BroadcastConfig
from bot.broadcast.runner import BroadcastRunner
from bot.broadcast.senders import Sender, TelegramSender, TwilioSender, WebSender
from bot.channels.whatsapp import WhatsAppConfig
from bot.content import FileContentStore
from bot.db.broadcasts import BroadcastJobs
from bot.db.models import User, utcnow
from bot.db.subscriptions import Subscriptions
from bot.privacy import Protector
from bot.settings import PROJECT_ROOT

TOKEN = "123:TEST"
ACCOUNT, AUTH = "AC" + "0" * 32, "auth-token"
SENDER = "whatsapp:+14155238886"
TEMPLATE = "HX" + "1" * 32
_USERS = cast(Table, User.__table__)


def config(**overrides: float) -> BroadcastConfig:
    base = BroadcastConfig.from_mapping({}, PROJECT_ROOT)
    return replace(base, poll_seconds=0.05, **overrides)  # type: ignore[arg-type]


def phone(index: int) -> str:
    return f"whatsapp:+5037{index:07d}"


def chat(index: int) -> str:
    return str(7_000_000 + index)


async def subscribe(
    engine: AsyncEngine,
    protector: Protector,
    channel: str,
    addresses: Iterable[str],
    topic: str = "route_safety",
    language: str = "es",
    wrote_hours_ago: float | None = 1.0,
) -> None:
    """Subscribers as the conversation makes them; `wrote_hours_ago` sets the 24-hour window."""
    subscriptions = Subscriptions(engine, protector)
    rows = []
    for address in addresses:
        await subscriptions.subscribe(channel, address, language, [topic])
        if wrote_hours_ago is not None:
            rows.append(
                {
                    "channel": channel,
                    "user_hash": protector.user_hash(channel, address),
                    "last_inbound_at": utcnow() - dt.timedelta(hours=wrote_hours_ago),
                    "last_options": "",
                    "created_at": utcnow(),
                    "language_locked": False,
                    "proactive_opt_out": False,
                }
            )
    if rows:
        async with engine.begin() as connection:
            await connection.execute(insert(_USERS), rows)


async def approved_job(engine: AsyncEngine, topic: str = "route_safety") -> int:
    jobs = BroadcastJobs(engine)
    job_id = await jobs.create(
        topic, "Aviso: el puente está cerrado.", "Alert: the bridge is closed.", "ana@x.org", None
    )
    await jobs.approve(job_id, "beto@x.org", max_per_week=2)
    return job_id


@asynccontextmanager
async def runner(
    engine: AsyncEngine,
    protector: Protector,
    content: FileContentStore,
    telegram_url: str | None,
    twilio_url: str | None,
    cfg: BroadcastConfig,
    holder: str | None = None,
) -> AsyncIterator[BroadcastRunner]:
    senders: dict[str, Sender] = {"web": WebSender(engine)}
    bot = None
    if telegram_url:
        bot = Bot(TOKEN, base_url=f"{telegram_url}/bot")
        await bot.initialize()
        senders["telegram"] = TelegramSender(
            bot, cfg.telegram_per_second, cfg.telegram_chat_seconds
        )
    if twilio_url:
        whatsapp = WhatsAppConfig(ACCOUNT, AUTH, SENDER, "", TEMPLATE, twilio_url)
        senders["whatsapp"] = TwilioSender(whatsapp, cfg.twilio_per_second)
    try:
        yield BroadcastRunner(
            BroadcastJobs(engine), Subscriptions(engine, protector), senders, content, cfg, holder
        )
    finally:
        if bot is not None:
            await bot.shutdown()


def max_in_any_second(times: list[float]) -> int:
    """The most arrivals inside any one-second window, from the receiver's own clock."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best
