"""The staff pages speak Spanish by default, English on request, and remember the choice.

The real admin app over ASGI, on a real database (SQLite and PostgreSQL), real accounts.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from bot.admin import i18n
from bot.admin.accounts import Accounts, Role
from bot.admin.app import build_admin
from bot.admin.context import AdminDeps
from bot.db import engine as db
from bot.db.content import ContentRepository, DbContentStore
from bot.db.inbox import Inbox
from bot.db.store import SqlStore
from bot.engine import engine_over
from bot.nlu_client import RasaClient
from bot.outbound import Outbound
from bot.privacy import Protector
from bot.settings import Settings
from tests.conftest import engine_text

SECRET = "staff-language-test-secret-" + "z" * 32
EDITOR = ("ana@example.org", "ana-password-123")
SPANISH_BROWSER = "es-SV,es;q=0.9,en;q=0.5"
ENGLISH_BROWSER = "en-US,en;q=0.9"


@pytest.fixture
async def admin(database_url: str, settings: Settings) -> AsyncIterator[httpx.ASGITransport]:
    db.upgrade(database_url)
    engine = db.make_async_engine(database_url)
    sessions = db.sessions(engine)
    repository = ContentRepository(sessions)
    await repository.import_files(settings.content_dir, settings.languages, "seed")
    content = DbContentStore(repository, settings.default_language, settings.languages)
    await content.refresh(force=True)
    await Accounts(sessions).create(*EDITOR, Role.EDITOR)
    protector = Protector(SECRET)
    app = build_admin(
        AdminDeps(
            settings,
            sessions,
            repository,
            content,
            # Never called by these pages: nothing here classifies a message.
            engine_over(
                settings,
                RasaClient("http://127.0.0.1:9", "unused", timeout_seconds=1),
                engine_text(settings),
            ),
            None,
            SECRET,
            Inbox(sessions, protector),
            Outbound(),
            SqlStore(sessions, protector),
        )
    )
    yield httpx.ASGITransport(app=Starlette(routes=[Mount("/admin", app=app)]))
    await engine.dispose()


def client(transport: httpx.ASGITransport, accept_language: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=transport,
        base_url="http://staff.test/admin",
        headers={"Accept-Language": accept_language},
    )


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def log_in(browser: httpx.AsyncClient) -> httpx.Response:
    page = await browser.get("/login")
    response = await browser.post(
        "/login",
        data={"csrf": csrf_of(page.text), "email": EDITOR[0], "password": EDITOR[1]},
    )
    assert response.status_code == 303, response.text
    return await browser.get("/")


async def test_login_page_follows_the_browser_language(admin: httpx.ASGITransport) -> None:
    async with client(admin, SPANISH_BROWSER) as spanish:
        page = (await spanish.get("/login")).text
    assert '<html lang="es">' in page
    assert "Contraseña" in page and "Iniciar sesión" in page
    assert "Password" not in page

    async with client(admin, ENGLISH_BROWSER) as english:
        page = (await english.get("/login")).text
    assert '<html lang="en">' in page
    assert "Password" in page and "Log in" in page
    assert "Contraseña" not in page

    async with client(admin, "fr-FR,de;q=0.8") as other:  # neither: Spanish
        assert "Contraseña" in (await other.get("/login")).text


async def test_a_wrong_password_is_told_in_the_page_language(
    admin: httpx.ASGITransport,
) -> None:
    async with client(admin, SPANISH_BROWSER) as spanish:
        page = await spanish.get("/login")
        response = await spanish.post(
            "/login", data={"csrf": csrf_of(page.text), "email": EDITOR[0], "password": "nope"}
        )
    assert response.status_code == 401
    assert "Correo o contraseña incorrectos." in response.text


async def test_a_staff_members_language_choice_sticks(admin: httpx.ASGITransport) -> None:
    async with client(admin, ENGLISH_BROWSER) as first:
        dashboard = await log_in(first)
        assert "<h1>Dashboard</h1>" in dashboard.text  # no choice yet: the browser decides
        chosen = await first.post(
            "/language", data={"csrf": csrf_of(dashboard.text), "language": "es", "next": "/admin/"}
        )
        assert chosen.status_code == 303 and chosen.headers["location"] == "/admin/"
        assert "<h1>Panel</h1>" in (await first.get("/")).text

    # Another device, an English browser, a new session: the account's choice wins.
    async with client(admin, ENGLISH_BROWSER) as second:
        dashboard = await log_in(second)
        assert "<h1>Panel</h1>" in dashboard.text
        assert '<html lang="es">' in dashboard.text
        back = await second.post(
            "/language", data={"csrf": csrf_of(dashboard.text), "language": "en", "next": "/admin/"}
        )
        assert back.status_code == 303
    async with client(admin, SPANISH_BROWSER) as third:
        assert "<h1>Dashboard</h1>" in (await log_in(third)).text


async def test_an_unknown_language_is_refused(admin: httpx.ASGITransport) -> None:
    async with client(admin, SPANISH_BROWSER) as browser:
        dashboard = await log_in(browser)
        response = await browser.post(
            "/language", data={"csrf": csrf_of(dashboard.text), "language": "fr"}
        )
    assert response.status_code == 400
    assert "Elija español o inglés." in response.text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-SV,es;q=0.9,en;q=0.5", "es"),
        ("en-US,en;q=0.9,es;q=0.8", "en"),
        ("en;q=0.2, es-MX;q=0.8", "es"),
        ("EN-gb", "en"),
        ("fr-FR, de;q=0.5", "es"),
        ("", "es"),
        ("en;q=0, *;q=0.1", "es"),
    ],
)
def test_accept_language_negotiation(header: str, expected: str) -> None:
    assert i18n.negotiate(header) == expected


def test_dates_and_numbers_follow_the_locale() -> None:
    import datetime as dt

    when = dt.datetime(2026, 12, 2, 18, 30)  # UTC, as stored: 12:30 in El Salvador
    with i18n.using("es"):
        assert i18n.format_number(12345) == "12.345"
        assert i18n.format_date(dt.date(2026, 12, 2)) == "2 dic 2026"
        assert "12:30" in i18n.format_datetime(when)
    with i18n.using("en"):
        assert i18n.format_number(12345) == "12,345"
        assert i18n.format_date(dt.date(2026, 12, 2)) == "Dec 2, 2026"
        assert "12:30" in i18n.format_datetime(when) and "PM" in i18n.format_datetime(when)
