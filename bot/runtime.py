"""Composition root: settings in, a running engine with its storage and NLU out.

Nothing is created at import time; every command builds what it needs here and
tears it down on exit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from bot.alerts import SmtpSettings, StaffAlerter
from bot.broadcast.flow import build_flow
from bot.channels.telegram import TelegramChannel
from bot.content import FileContentStore
from bot.db import engine as db
from bot.db.content import ContentRepository, DbContentStore
from bot.db.inbox import Inbox
from bot.db.store import SqlStore
from bot.db.write_behind import WriteBehindStore
from bot.dispatcher import Dispatcher
from bot.engine import build_dispatcher, engine_over
from bot.metrics import Metrics
from bot.nlu_client import RasaClient
from bot.nlu_endpoint import Endpoint, nlu_endpoint
from bot.outbound import Outbound
from bot.privacy import Protector, resolve_secret
from bot.ratelimit import RateLimits
from bot.settings import Settings, SettingsError, production_secret_problems


@dataclass
class Runtime:
    settings: Settings
    dispatcher: Dispatcher
    store: SqlStore
    content: FileContentStore
    database: AsyncEngine
    protector: Protector
    repository: ContentRepository | None = None
    classifier: RasaClient | None = None
    nlu: Endpoint | None = None
    states: WriteBehindStore | None = None


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


def admin_app(runtime: Runtime, outbound: Outbound) -> Starlette:
    """The staff pages, wired to this runtime's database, content and NLU."""
    from bot.admin.app import build_admin
    from bot.admin.context import AdminDeps
    from bot.admin.retrain import Retrainer

    assert runtime.repository is not None and runtime.classifier is not None
    assert isinstance(runtime.content, DbContentStore)
    sessions = db.sessions(runtime.database)
    retrainer = None
    if runtime.nlu is not None and runtime.nlu.local is not None:
        retrainer = Retrainer(
            runtime.settings, sessions, runtime.repository, runtime.classifier, runtime.nlu
        )
    return build_admin(
        AdminDeps(
            settings=runtime.settings,
            sessions=sessions,
            repository=runtime.repository,
            content=runtime.content,
            engine_for=engine_over(runtime.settings, runtime.classifier),
            retrainer=retrainer,
            secret=resolve_secret(runtime.settings),
            inbox=Inbox(sessions, runtime.protector),
            outbound=outbound,
            store=runtime.store,
            limits=RateLimits.from_settings(runtime.settings.limits, runtime.dispatcher.metrics),
        )
    )


async def prepare_database(settings: Settings, say: Callable[[str], None]) -> None:
    """Migrate and seed once, before several workers start on the same database."""
    async with storage(settings) as (_store, engine, _protector):
        await published_content(settings, ContentRepository(db.sessions(engine)), say)


@asynccontextmanager
async def running(
    settings: Settings,
    say: Callable[[str], None],
    reuse_nlu: bool = False,
    shared_nlu: bool = False,
) -> AsyncIterator[Runtime]:
    """`reuse_nlu`: use a local NLU server another command runs (for `ask` and `chat`);
    `shared_nlu`: only the one the parent of this worker runs."""
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
        client = RasaClient(
            endpoint.url, endpoint.auth_token, settings.nlu.timeout_seconds, metrics=metrics
        )
        states = WriteBehindStore(store, metrics)
        try:
            dispatcher = build_dispatcher(settings, client, states, content, metrics)
            dispatcher.alerts = build_flow(settings, content, engine, protector)
            yield Runtime(
                settings,
                dispatcher,
                store,
                content,
                engine,
                protector,
                repository,
                client,
                endpoint,
                states,
            )
        finally:
            await states.aclose()
            await client.aclose()


def staff_alerter(
    settings: Settings, telegram: TelegramChannel | None, metrics: Metrics | None = None
) -> StaffAlerter:
    alerts = settings.alerts
    base = settings.public_base_url or f"http://{settings.host}:{settings.port}"
    inbox_url = alerts.public_admin_url or f"{base.rstrip('/')}/admin/inbox"
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
        inbox_url,
        telegram_send=telegram.send if telegram is not None else None,
        telegram_chat_id=alerts.telegram_chat_id,
        smtp=smtp,
        max_per_minute=alerts.max_per_minute,
        metrics=metrics,
    )
