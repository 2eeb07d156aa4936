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

from bot.content import FileContentStore
from bot.content_db import ContentRepository, DbContentStore
from bot.db import engine as db
from bot.db.store import SqlStore
from bot.dispatcher import Dispatcher
from bot.engine import build_dispatcher
from bot.privacy import Protector, resolve_secret
from bot.settings import Settings
from nlu.client import RasaClient
from nlu.service import Endpoint, nlu_endpoint


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


def admin_app(runtime: Runtime) -> Starlette:
    """The staff pages, wired to this runtime's database, content and NLU."""
    from bot.admin.app import AdminDeps, build_admin
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
            classifier=runtime.classifier,
            retrainer=retrainer,
            secret=resolve_secret(runtime.settings),
        )
    )


@asynccontextmanager
async def running(settings: Settings, say: Callable[[str], None]) -> AsyncIterator[Runtime]:
    async with (
        storage(settings) as (store, engine, protector),
        nlu_endpoint(settings, say) as endpoint,
    ):
        repository = ContentRepository(db.sessions(engine))
        content = await published_content(settings, repository, say)
        client = RasaClient(endpoint.url, endpoint.auth_token, settings.nlu.timeout_seconds)
        try:
            dispatcher = build_dispatcher(settings, client, store, content)
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
            )
        finally:
            await client.aclose()
