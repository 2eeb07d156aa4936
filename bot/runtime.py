"""Composition root: settings in, a running engine with its storage and NLU out.

Nothing is created at import time; every command builds what it needs here and
tears it down on exit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content import FileContentStore
from bot.content_db import ContentRepository, DbContentStore
from bot.db import engine as db
from bot.db.store import SqlStore
from bot.dispatcher import Dispatcher
from bot.engine import build_dispatcher
from bot.privacy import Protector, resolve_secret
from bot.settings import Settings
from nlu.client import RasaClient
from nlu.service import nlu_endpoint


@dataclass
class Runtime:
    settings: Settings
    dispatcher: Dispatcher
    store: SqlStore
    content: FileContentStore
    database: AsyncEngine
    protector: Protector
    repository: ContentRepository | None = None


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
            yield Runtime(settings, dispatcher, store, content, engine, protector, repository)
        finally:
            await client.aclose()
