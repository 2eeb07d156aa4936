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
from bot.db import engine as db
from bot.db.store import SqlStore
from bot.dispatcher import Dispatcher
from bot.engine import build_dispatcher, file_content
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


@asynccontextmanager
async def storage(settings: Settings) -> AsyncIterator[tuple[SqlStore, AsyncEngine, Protector]]:
    protector = Protector(resolve_secret(settings))
    db.upgrade(settings.database_url)
    engine = db.make_async_engine(settings.database_url)
    try:
        yield SqlStore(db.sessions(engine), protector), engine, protector
    finally:
        await engine.dispose()


@asynccontextmanager
async def running(settings: Settings, say: Callable[[str], None]) -> AsyncIterator[Runtime]:
    content = file_content(settings)
    async with (
        storage(settings) as (store, engine, protector),
        nlu_endpoint(settings, say) as endpoint,
    ):
        client = RasaClient(endpoint.url, endpoint.auth_token, settings.nlu.timeout_seconds)
        try:
            dispatcher = build_dispatcher(settings, client, store, content)
            yield Runtime(settings, dispatcher, store, content, engine, protector)
        finally:
            await client.aclose()
