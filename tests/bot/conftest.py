"""Every storage test runs on a real SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import engine as db
from bot.db.store import SqlStore
from bot.privacy import Protector
from tests import pg_cluster

SECRET = "test-secret-" + "x" * 40


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url and os.environ.get("CI") == "true":
        pytest.fail("TEST_POSTGRES_URL is not set: CI must run the tests against PostgreSQL")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    base = _postgres_url()
    if base is None:
        pytest.skip("no PostgreSQL: " + pg_cluster.INSTALL_HINT)
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(db.sync_url(base).replace("+psycopg", "+psycopg"))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def protector() -> Protector:
    return Protector(SECRET)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[AsyncEngine]:
    db.upgrade(database_url)
    engine = db.make_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def store(database: AsyncEngine, protector: Protector) -> SqlStore:
    return SqlStore(db.sessions(database), protector)
