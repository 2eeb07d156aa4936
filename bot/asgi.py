"""The ASGI application as uvicorn workers load it: `uvicorn bot.asgi:create_app --factory`.

Each worker builds its own runtime (database pool, content cache, NLU client,
channels, staff pages) during the ASGI lifespan, so nothing is created at
import time and workers share nothing but the database and the NLU server.
"""

from __future__ import annotations

import functools
import logging
from contextlib import AsyncExitStack
from typing import Any

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from bot.settings import Settings, load_settings

log = logging.getLogger(__name__)


def build_channels(
    settings: Settings, runtime: Any, polling: bool = False
) -> tuple[list[Any], Any]:
    """Channels enabled by the environment, with the outbound router and staff alerts."""
    from bot.channels.sms import SmsChannel, SmsConfig, SmsKeywords
    from bot.channels.telegram import TelegramChannel, TelegramConfig
    from bot.channels.whatsapp import WhatsAppChannel, WhatsAppConfig
    from bot.db.chat_log import SqlChatLog
    from bot.db.sms_ledger import SqlSmsLedger
    from bot.db.web_outbox import WebOutbox
    from bot.outbound import Outbound, staff_preview
    from bot.runtime import staff_alerter

    channels: list[Any] = []
    states = runtime.states or runtime.store
    outbound = Outbound(
        functools.partial(
            staff_preview, states, runtime.content, settings.default_language
        )
    )
    telegram_channel = None
    telegram = TelegramConfig.from_settings(settings)
    if telegram is not None:
        if not polling and not telegram.webhook_secret:
            raise RuntimeError(
                "TELEGRAM_WEBHOOK_SECRET is required for the Telegram webhook"
                " (or use --telegram-polling)"
            )
        telegram_channel = TelegramChannel(
            telegram,
            runtime.dispatcher.handle,
            polling,
            chat_log=SqlChatLog(runtime.database, runtime.protector),
            content=runtime.content,
            default_language=settings.default_language,
        )
        channels.append(telegram_channel)
        outbound.register("telegram", telegram_channel.deliver)
        log.info("Telegram channel enabled (%s)", "long polling" if polling else "webhook")
    whatsapp = WhatsAppConfig.from_settings(settings)
    if whatsapp is not None:
        states = runtime.states or runtime.store
        whatsapp_channel = WhatsAppChannel(
            whatsapp,
            runtime.dispatcher.handle,
            states.contact_state,
            states.record_delivery_failure,
            runtime.content,
        )
        channels.append(whatsapp_channel)
        outbound.register("whatsapp", whatsapp_channel.deliver)
        log.info("WhatsApp channel enabled (Twilio webhook at /webhooks/whatsapp)")
    sms = SmsConfig.from_settings(settings)
    if sms is not None:
        states = runtime.states or runtime.store
        sms_channel = SmsChannel(
            sms,
            runtime.dispatcher.handle,
            runtime.content,
            SqlSmsLedger(runtime.database, runtime.protector),
            SmsKeywords.from_file(settings.nlu.config.parent / "sms_keywords.yml"),
            states.first_time_seen,
            states.record_delivery_failure,
            default_language=settings.default_language,
        )
        channels.append(sms_channel)
        outbound.register("sms", sms_channel.deliver)
        log.info("SMS channel enabled (Twilio webhook at /webhooks/sms)")
    outbound.register(
        "web", WebOutbox(runtime.database, runtime.protector).deliver, notifies=False
    )
    runtime.dispatcher.on_handoff = staff_alerter(
        settings, telegram_channel, runtime.dispatcher.metrics
    )
    return channels, outbound


class VentanillaApp:
    """Builds the real app on lifespan startup and tears it down on shutdown."""

    def __init__(
        self, settings: Settings, polling: bool = False, shared_nlu: bool = False
    ) -> None:
        self._settings = settings
        self._polling = polling
        self._shared_nlu = shared_nlu
        self._inner: Starlette | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if self._inner is None:
            raise RuntimeError("the app received a request before its startup finished")
        await self._inner(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        from bot.broadcast.worker import broadcasting
        from bot.runtime import admin_app, running
        from bot.web import build_app

        await receive()  # lifespan.startup
        stack = AsyncExitStack()
        try:
            runtime = await stack.enter_async_context(
                running(self._settings, log.info, shared_nlu=self._shared_nlu)
            )
            channels, outbound = build_channels(self._settings, runtime, self._polling)
            inner = build_app(runtime, channels, admin=admin_app(runtime, outbound))
            # Topic alerts: every worker runs a sender; a database lease lets one send.
            await stack.enter_async_context(
                broadcasting(self._settings, runtime.database, runtime.protector, runtime.content)
            )
            await stack.enter_async_context(inner.router.lifespan_context(inner))
            self._inner = inner
        except Exception as exc:
            log.exception("start-up failed")
            await stack.aclose()
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await stack.aclose()
        await send({"type": "lifespan.shutdown.complete"})


def create_app() -> VentanillaApp:
    return VentanillaApp(load_settings())


def create_worker_app() -> VentanillaApp:
    """One worker of `ventanilla run --workers N`: settings from the same environment as
    its parent, and the NLU server the parent started (or NLU_URL)."""
    return VentanillaApp(load_settings(), shared_nlu=True)
