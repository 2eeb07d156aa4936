"""The schema migrations go up and down on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from bot.db import engine as db
from bot.db.models import Base


def test_migrations_go_up_and_down(database_url: str) -> None:
    db.upgrade(database_url)
    engine = db.make_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
        assert set(Base.metadata.tables) <= tables
        db.downgrade(database_url, "base")
        with engine.connect() as connection:
            left = set(inspect(connection).get_table_names()) - {"alembic_version"}
        assert left.isdisjoint(Base.metadata.tables)
        db.upgrade(database_url)
    finally:
        engine.dispose()
