"""Build a send worker from settings, and run one on its own: `python -m bot.broadcast.worker`.

`ventanilla run` starts a worker inside each web process (the lease keeps all
but one idle); the stand-alone form is for a separate process, and
`--until-idle` finishes the due jobs and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot

from bot.broadcast.config import BroadcastConfig
from bot.broadcast.runner import BroadcastRunner
from bot.broadcast.senders import Sender, TelegramSender, TwilioSender, WebSender
from bot.channels.telegram import CHANNEL as TELEGRAM
from bot.channels.telegram import TelegramConfig
from bot.channels.webchat import CHANNEL as WEB
from bot.channels.whatsapp import CHANNEL as WHATSAPP
from bot.channels.whatsapp import WhatsAppConfig
from bot.db import engine as db
from bot.db.broadcasts import BroadcastJobs
from bot.db.subscriptions import Subscriptions
from bot.engine import file_content
from bot.privacy import Protector, resolve_secret
from bot.settings import Settings, load_settings
from kernel.types import ContentStore

log = logging.getLogger(__name__)


@asynccontextmanager
async def senders(settings: Settings, engine: AsyncEngine) -> AsyncIterator[dict[str, Sender]]:
    """A sender for every channel the environment enables, and the web chat always."""
    config = BroadcastConfig.from_settings(settings)
    found: dict[str, Sender] = {WEB: WebSender(engine)}
    async with AsyncExitStack() as stack:
        telegram = TelegramConfig.from_settings(settings)
        if telegram is not None:
            base = telegram.api_base_url.rstrip("/")
            bot = (
                Bot(telegram.token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot")
                if base
                else Bot(telegram.token)
            )
            await stack.enter_async_context(bot)
            found[TELEGRAM] = TelegramSender(
                bot, config.telegram_per_second, config.telegram_chat_seconds
            )
        whatsapp = WhatsAppConfig.from_settings(settings)
        if whatsapp is not None:
            found[WHATSAPP] = TwilioSender(whatsapp, config.twilio_per_second)
        yield found


def build_runner(
    settings: Settings,
    engine: AsyncEngine,
    protector: Protector,
    content: ContentStore,
    channel_senders: dict[str, Sender],
) -> BroadcastRunner:
    return BroadcastRunner(
        BroadcastJobs(engine),
        Subscriptions(engine, protector),
        channel_senders,
        content,
        BroadcastConfig.from_settings(settings),
    )


async def run_until_idle(runner: BroadcastRunner, jobs: BroadcastJobs, poll: float) -> None:
    """Wait for the lease if another worker holds it; return when no job is due."""
    while True:
        await runner.run_once()
        if not await jobs.due():
            return
        await asyncio.sleep(poll)


async def main_async(until_idle: bool) -> None:
    settings = load_settings()
    protector = Protector(resolve_secret(settings))
    db.upgrade(settings.database_url)
    engine = db.make_async_engine(settings.database_url)
    try:
        async with senders(settings, engine) as channel_senders:
            runner = build_runner(
                settings, engine, protector, file_content(settings), channel_senders
            )
            if until_idle:
                poll = BroadcastConfig.from_settings(settings).poll_seconds
                await run_until_idle(runner, BroadcastJobs(engine), poll)
            else:
                await runner.run_forever()
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--until-idle", action="store_true", help="exit when no job is due")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(main_async(args.until_idle))


if __name__ == "__main__":
    main()


@asynccontextmanager
async def broadcasting(
    settings: Settings, engine: AsyncEngine, protector: Protector, content: ContentStore
) -> AsyncIterator[BroadcastRunner]:
    """A send worker inside a web process for as long as the server runs.

    On shutdown it hands the lease back, so another worker resumes at once
    instead of waiting for the lease to expire.
    """
    async with senders(settings, engine) as channel_senders:
        runner = build_runner(settings, engine, protector, content, channel_senders)
        task = asyncio.create_task(runner.run_forever())
        try:
            yield runner
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with contextlib.suppress(Exception):
                await BroadcastJobs(engine).release_lease(runner.holder)
