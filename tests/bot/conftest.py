"""Storage fixtures for every test under tests/bot (db, broadcast, admin, channels): each
storage test runs on a real SQLite file and on a real PostgreSQL server, and the
Chromium the staff-page and web chat tests drive."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import engine as db
from bot.db.store import SqlStore
from bot.privacy import Protector
from tests import pg_cluster

SECRET = "test-secret-" + "x" * 40
CHROMIUM = "/usr/bin/chromium"


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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, once per test module. Not once per session: Playwright's
    sync API runs an event loop in this thread while it is open, and other modules'
    tests call asyncio.run."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def staff_login(page: Page, base_url: str, who: tuple[str, str]) -> None:
    """Sign in on the staff login page as a person would: type, then press the button."""
    page.goto(f"{base_url}/admin/login")
    page.fill("#email", who[0])
    page.fill("#password", who[1])
    page.click("#login button[type=submit]")
