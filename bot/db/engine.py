"""Database engines and migrations. SQLite is the embedded default; any SQLAlchemy URL works.

The app uses an async engine so that no query blocks the event loop; Alembic
runs on a short-lived sync engine for the same URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 10_000


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'ventanilla.sqlite3'}"


def sync_url(url: str) -> str:
    return url.replace("sqlite+aiosqlite://", "sqlite://")


def async_url(url: str) -> str:
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten with zeros: an erased text is not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _prepare_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url and ":memory:" not in url:
        Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)


def make_sync_engine(url: str) -> Engine:
    url = sync_url(url)
    _prepare_sqlite_dir(url)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_async_engine(url: str) -> AsyncEngine:
    _prepare_sqlite_dir(url)
    # A server connection can drop (restart, failover) and is tested before use; a
    # SQLite file cannot, and the test would cost a round trip per message.
    is_sqlite = url.startswith("sqlite")
    engine = create_async_engine(async_url(url), pool_pre_ping=not is_sqlite)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def sessions(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic(url: str, action: str, revision: str) -> None:
    engine = make_sync_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    _alembic(url, "upgrade", revision)


def downgrade(url: str, revision: str = "base") -> None:
    _alembic(url, "downgrade", revision)


def autogenerate(url: str, message: str) -> None:  # pragma: no cover - developer tool
    engine = make_sync_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True, rev_id="0001")
