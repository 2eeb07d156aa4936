"""Composition root: settings in, the object graph out.

The one module that knows every part. It builds storage, published content, the
NLU client, the text rules, the rate limits, the dispatcher, the channels, the
staff alerter and the staff pages from the settings, each once per process, and
hands each what it needs at construction. Nothing is created at import time and
nothing is patched afterwards; the commands (`bot/commands/`) and the ASGI app
(`bot/asgi.py`) ask here.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from bot.admin.app import build_admin
from bot.admin.context import AdminDeps
from bot.admin.retrain import Retrainer
from bot.alerts import SmtpSettings, StaffAlerter
from bot.broadcast.flow import build_flow
from bot.broadcast.worker import broadcasting
from bot.channels.sms import CHANNEL as SMS
from bot.channels.sms import SmsChannel, SmsConfig, SmsKeywords
from bot.channels.telegram import CHANNEL as TELEGRAM
from bot.channels.telegram import TelegramChannel, TelegramConfig
from bot.channels.webchat import CHANNEL as WEB
from bot.channels.whatsapp import CHANNEL as WHATSAPP
from bot.channels.whatsapp import WhatsAppChannel, WhatsAppConfig
from bot.db import engine as db
from bot.db.chat_log import SqlChatLog
from bot.db.content import ContentRepository, DbContentStore
from bot.db.inbox import Inbox
from bot.db.sms_ledger import SqlSmsLedger
from bot.db.store import SqlStore
from bot.db.web_outbox import WebOutbox
from bot.db.write_behind import WriteBehindStore
from bot.dispatcher import Dispatcher
from bot.engine import build_dispatcher, engine_over
from bot.memory_state import InMemoryStateStore
from bot.metrics import Metrics
from bot.nlu_client import RasaClient
from bot.nlu_endpoint import Endpoint, nlu_endpoint
from bot.outbound import Outbound, staff_preview
from bot.privacy import Protector, resolve_secret
from bot.ratelimit import RateLimits, handoff_cooldown
from bot.settings import Settings, SettingsError, production_secret_problems
from bot.text_resources import TextResources, load_text_resources
from bot.web import ChannelService, WebDeps, build_app
from kernel.types import EngineResult, Handle, HandoffGate, IncomingMessage, OnHandoff

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Core:
    """What every command that talks to people shares: storage, published content, the NLU
    client and its endpoint, the text rules, the counters and the abuse limits."""

    settings: Settings
    store: SqlStore
    states: WriteBehindStore
    database: AsyncEngine
    protector: Protector
    repository: ContentRepository
    content: DbContentStore
    classifier: RasaClient
    nlu: Endpoint
    metrics: Metrics
    text: TextResources
    limits: RateLimits


def text_resources(settings: Settings) -> TextResources:
    """The training texts and word lists the dispatcher's text rules are built from
    (about a second to read: once per process, here)."""
    nlu = settings.nlu
    return load_text_resources(nlu.data_dir, nlu.config.parent, settings.languages)


@asynccontextmanager
async def storage(settings: Settings) -> AsyncIterator[tuple[SqlStore, AsyncEngine, Protector]]:
    protector = Protector(resolve_secret(settings))
    db.upgrade(settings.database_url)
    engine = db.make_async_engine(settings.database_url)
    try:
        yield SqlStore(db.sessions(engine), protector), engine, protector
    finally:
        await engine.dispose()


async def published_content(
    settings: Settings, repository: ContentRepository, say: Callable[[str], None]
) -> DbContentStore:
    """The database holds what staff published; on first start it is seeded from content/."""
    if await repository.revision() == 0:
        created = await repository.import_files(settings.content_dir, settings.languages, "seed")
        say(f"Content database seeded from {settings.content_dir} ({created} entries).")
    content = DbContentStore(repository, settings.default_language, settings.languages)
    await content.refresh(force=True)
    return content


async def prepare_database(settings: Settings, say: Callable[[str], None]) -> None:
    """Migrate and seed once, before several workers start on the same database."""
    async with storage(settings) as (_store, engine, _protector):
        await published_content(settings, ContentRepository(db.sessions(engine)), say)


@asynccontextmanager
async def core(
    settings: Settings,
    say: Callable[[str], None],
    reuse_nlu: bool = False,
    shared_nlu: bool = False,
) -> AsyncIterator[Core]:
    """`reuse_nlu`: use a local NLU server another command runs (for `ask` and `chat`);
    `shared_nlu`: only the one the parent of this worker runs (`run --workers N`)."""
    problems = production_secret_problems(settings)
    if problems:
        raise SettingsError("; ".join(problems))
    async with (
        storage(settings) as (store, engine, protector),
        nlu_endpoint(settings, say, reuse_nlu, shared_nlu) as endpoint,
    ):
        repository = ContentRepository(db.sessions(engine))
        content = await published_content(settings, repository, say)
        metrics = Metrics()
        client = RasaClient.configured(
            endpoint.url, endpoint.auth_token, settings.nlu, metrics=metrics
        )
        states = WriteBehindStore(store, metrics)
        limits = RateLimits.from_settings(settings.limits, metrics)
        text = text_resources(settings)
        try:
            yield Core(
                settings, store, states, engine, protector, repository, content, client,
                endpoint, metrics, text, limits,
            )  # fmt: skip
        finally:
            await states.aclose()
            await client.aclose()


def stored_dispatcher(
    core: Core, on_handoff: OnHandoff | None = None, handoff_gate: HandoffGate | None = None
) -> Dispatcher:
    """The dispatcher over the database, with alert subscriptions; the server adds staff
    alerts (`on_handoff`) and the tickets-per-person limit (`handoff_gate`)."""
    settings = core.settings
    return build_dispatcher(
        settings,
        core.classifier,
        core.states,
        core.content,
        core.metrics,
        text=core.text,
        on_handoff=on_handoff,
        handoff_gate=handoff_gate,
        alerts=build_flow(settings, core.content, core.database, core.protector),
    )


def trial_dispatcher(core: Core) -> Dispatcher:
    """Conversations, state and tickets kept in this process only (`ask`, `chat`): trying
    the bot leaves nothing behind in the database."""
    return build_dispatcher(
        core.settings, core.classifier, InMemoryStateStore(), core.content, text=core.text
    )


@asynccontextmanager
async def served(
    settings: Settings, polling: bool = False, shared_nlu: bool = False
) -> AsyncIterator[Starlette]:
    """The whole server: channels, dispatcher, staff alerts and pages, the broadcast sender,
    the web app; started, and torn down on exit."""
    async with AsyncExitStack() as stack:
        parts = await stack.enter_async_context(core(settings, log.info, shared_nlu=shared_nlu))

        # The Telegram channel both feeds the dispatcher and carries its staff alerts, so
        # the channels are built first and reach the dispatcher, built below, through this.
        async def handle(message: IncomingMessage) -> EngineResult:
            return await dispatcher.handle(message)

        channels = build_channels(settings, parts, handle, polling)
        dispatcher = stored_dispatcher(
            parts,
            on_handoff=staff_alerter(settings, channels.telegram, parts.metrics),
            handoff_gate=handoff_cooldown(parts.limits),
        )
        app = build_app(
            WebDeps(
                settings, dispatcher, parts.states, parts.content, parts.database,
                parts.protector, parts.limits,
            ),
            channels.services,
            admin=admin_app(parts, channels.outbound),
        )  # fmt: skip
        # Topic alerts: every worker runs a sender; a database lease lets one send.
        await stack.enter_async_context(
            broadcasting(settings, parts.database, parts.protector, parts.content)
        )
        await stack.enter_async_context(app.router.lifespan_context(app))
        yield app


@dataclass(frozen=True)
class Channels:
    services: list[ChannelService]
    outbound: Outbound
    telegram: TelegramChannel | None


def build_channels(settings: Settings, core: Core, handle: Handle, polling: bool) -> Channels:
    """The channels the settings enable, and the outbound router staff replies go through."""
    outbound = Outbound(
        functools.partial(staff_preview, core.states, core.content, settings.default_language)
    )
    services: list[ChannelService] = []
    telegram = _telegram(settings, core, handle, polling)
    whatsapp = _whatsapp(settings, core, handle)
    sms = _sms(settings, core, handle)
    for name, channel in ((TELEGRAM, telegram), (WHATSAPP, whatsapp), (SMS, sms)):
        if channel is not None:
            services.append(channel)
            outbound.register(name, channel.deliver)
    outbound.register(WEB, WebOutbox(core.database, core.protector).deliver, notifies=False)
    return Channels(services, outbound, telegram)


def _telegram(
    settings: Settings, core: Core, handle: Handle, polling: bool
) -> TelegramChannel | None:
    config = TelegramConfig.from_settings(settings)
    if config is None:
        return None
    if not polling and not config.webhook_secret:
        raise RuntimeError(
            "TELEGRAM_WEBHOOK_SECRET is required for the Telegram webhook"
            " (or use --telegram-polling)"
        )
    log.info("Telegram channel enabled (%s)", "long polling" if polling else "webhook")
    return TelegramChannel(
        config,
        handle,
        polling,
        chat_log=SqlChatLog(core.database, core.protector),
        content=core.content,
        default_language=settings.default_language,
    )


def _whatsapp(settings: Settings, core: Core, handle: Handle) -> WhatsAppChannel | None:
    config = WhatsAppConfig.from_settings(settings)
    if config is None:
        return None
    log.info("WhatsApp channel enabled (Twilio webhook at /webhooks/whatsapp)")
    states = core.states
    return WhatsAppChannel(
        config, handle, states.contact_state, states.record_delivery_failure, core.content
    )


def _sms(settings: Settings, core: Core, handle: Handle) -> SmsChannel | None:
    config = SmsConfig.from_settings(settings)
    if config is None:
        return None
    log.info("SMS channel enabled (Twilio webhook at /webhooks/sms)")
    return SmsChannel(
        config,
        handle,
        core.content,
        SqlSmsLedger(core.database, core.protector),
        SmsKeywords.from_file(settings.nlu.config.parent / "sms_keywords.yml"),
        core.states.first_time_seen,
        core.states.record_delivery_failure,
        default_language=settings.default_language,
    )


def staff_alerter(
    settings: Settings, telegram: TelegramChannel | None, metrics: Metrics
) -> StaffAlerter:
    alerts = settings.alerts
    base = settings.public_base_url or f"http://{settings.host}:{settings.port}"
    smtp = None
    if alerts.smtp_host and alerts.email_to:
        smtp = SmtpSettings(
            host=alerts.smtp_host,
            port=alerts.smtp_port,
            sender=alerts.email_from or "ventanilla@localhost",
            recipients=alerts.email_to,
            username=alerts.smtp_username,
            password=alerts.smtp_password,
            starttls=alerts.smtp_starttls,
        )
    return StaffAlerter(
        alerts.public_admin_url or f"{base.rstrip('/')}/admin/inbox",
        telegram_send=telegram.send if telegram is not None else None,
        telegram_chat_id=alerts.telegram_chat_id,
        smtp=smtp,
        max_per_minute=alerts.max_per_minute,
        metrics=metrics,
    )


def admin_app(core: Core, outbound: Outbound) -> Starlette:
    """The staff pages, wired to this process's database, content and NLU."""
    settings = core.settings
    sessions = db.sessions(core.database)
    retrainer = None
    if core.nlu.local is not None:  # a server started here can be swapped for a new model
        retrainer = Retrainer(settings, sessions, core.repository, core.classifier, core.nlu)
    return build_admin(
        AdminDeps(
            settings=settings,
            sessions=sessions,
            repository=core.repository,
            content=core.content,
            engine_for=engine_over(settings, core.classifier, core.text),
            retrainer=retrainer,
            secret=resolve_secret(settings),
            inbox=Inbox(sessions, core.protector),
            outbound=outbound,
            store=core.store,
            limits=core.limits,
        )
    )
