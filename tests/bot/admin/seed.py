"""The database a staff-pages test site starts from: published content and staff accounts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.admin.accounts import Accounts, Role
from bot.db import engine as db
from bot.db.content import ContentRepository
from bot.settings import Settings

Staff = Iterable[tuple[tuple[str, str], Role]]


async def seed_site(
    database_url: str,
    settings: Settings,
    staff: Staff,
    more: Callable[[AsyncEngine], Awaitable[None]] | None = None,
) -> None:
    """Import the content files, create each (email, password) with its role, then `more`."""
    engine = db.make_async_engine(database_url)
    try:
        sessions = db.sessions(engine)
        await ContentRepository(sessions).import_files(
            settings.content_dir, settings.languages, "seed"
        )
        accounts = Accounts(sessions)
        for credentials, role in staff:
            await accounts.create(*credentials, role)
        if more is not None:
            await more(engine)
    finally:
        await engine.dispose()
