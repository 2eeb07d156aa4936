"""Avisos / Broadcasts in real headless Chromium: compose, test-send, second approval, progress."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import Route
from telegram import Bot

from bot.admin.accounts import Role
from bot.admin.app import build_admin
from bot.admin.context import AdminDeps
from bot.broadcast.runner import BroadcastRunner
from bot.broadcast.senders import TelegramSender, WebSender
from bot.db import engine as db
from bot.db.broadcasts import BroadcastJobs
from bot.db.content import ContentRepository, DbContentStore
from bot.db.inbox import Inbox
from bot.db.models import AuditEvent
from bot.db.store import SqlStore
from bot.db.subscriptions import Subscriptions
from bot.engine import build_dispatcher, engine_over
from bot.outbound import Outbound
from bot.privacy import Protector
from bot.settings import Settings
from bot.web import build_app
from tests.bot.admin.seed import seed_site
from tests.bot.broadcast.helpers import config
from tests.bot.conftest import staff_login
from tests.conftest import ScriptedClassifier, engine_text, web_deps
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeBotAPI

SECRET = "broadcast-browser-test-secret-" + "b" * 32
TOKEN = "888:BROADCAST-test"
AUTHOR = ("author@example.org", "author-password-1")
APPROVER = ("approver@example.org", "approver-password-1")
SUBSCRIBED_CHATS = ["9001", "9002", "9003"]


@dataclass
class Site:
    url: str
    api: FakeBotAPI
    database_url: str


async def _seed(database_url: str, settings: Settings) -> None:
    async def subscribe(engine: AsyncEngine) -> None:
        subscriptions = Subscriptions(engine, Protector(SECRET))
        for chat_id in SUBSCRIBED_CHATS:
            await subscriptions.subscribe("telegram", chat_id, "es", ["us_changes"])

    staff = [(AUTHOR, Role.EDITOR), (APPROVER, Role.EDITOR)]
    await seed_site(database_url, settings, staff, subscribe)


class SendWorker:
    """The broadcast worker as the server runs it, started and stopped with the app."""

    def __init__(self, make: object) -> None:
        self._make = make
        self._task: asyncio.Task[None] | None = None
        self._bot: Bot | None = None

    def routes(self) -> list[Route]:
        return []

    async def start(self) -> None:
        runner, self._bot = await self._make()  # type: ignore[operator]
        self._task = asyncio.create_task(runner.run_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._bot is not None:
            await self._bot.shutdown()


@pytest.fixture(scope="module")
def site(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('bcast') / 'admin.sqlite3'}"
    db.upgrade(database_url)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _seed(database_url, settings)).result()
    engine = db.make_async_engine(database_url)
    sessions = db.sessions(engine)
    repository = ContentRepository(sessions)
    content = DbContentStore(repository, settings.default_language, settings.languages)
    protector = Protector(SECRET)
    store = SqlStore(sessions, protector)
    classifier = ScriptedClassifier()
    dispatcher = build_dispatcher(settings, classifier, store, content, text=engine_text(settings))
    runtime = web_deps(settings, dispatcher, store, content, engine, protector)
    api = FakeBotAPI(TOKEN)
    with serve(api.app()) as api_url:

        async def make_runner() -> tuple[BroadcastRunner, Bot]:
            await content.refresh(force=True)
            cfg = config()
            bot = Bot(TOKEN, base_url=f"{api_url}/bot")
            await bot.initialize()
            senders = {
                "telegram": TelegramSender(bot, cfg.telegram_per_second, 1.0),
                "web": WebSender(engine),
            }
            jobs, subscriptions = BroadcastJobs(engine), Subscriptions(engine, protector)
            return BroadcastRunner(jobs, subscriptions, senders, content, cfg), bot

        admin = build_admin(
            AdminDeps(
                settings,
                sessions,
                repository,
                content,
                engine_over(settings, classifier, engine_text(settings)),
                None,
                SECRET,
                Inbox(sessions, protector),
                Outbound(),
                store,
            )
        )
        app = build_app(runtime, [SendWorker(make_runner)], purge=False, admin=admin)
        with serve(app) as url:
            yield Site(url, api, database_url)


def _audit_actions(database_url: str) -> list[tuple[str, str]]:
    async def read() -> list[tuple[str, str]]:
        engine = db.make_async_engine(database_url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    select(AuditEvent.actor, AuditEvent.action).order_by(AuditEvent.id)
                )
                return [(str(a), str(b)) for a, b in rows.all()]
        finally:
            await engine.dispose()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, read()).result()


def test_compose_test_send_approve_and_watch_it_go_out(site: Site, browser: Browser) -> None:
    author = browser.new_context(locale="en-US").new_page()
    author.set_default_timeout(30_000)
    author.goto(f"{site.url}/")  # the author's own web chat: the test send goes there
    staff_login(author, site.url, AUTHOR)
    author.goto(f"{site.url}/admin/broadcasts")
    expect(author.locator("#subscribers")).to_contain_text("3")
    author.select_option("#topic", "us_changes")
    author.fill("#text_es", "Aviso de prueba: revisá la fecha de tu cita.")
    author.fill("#text_en", "Test alert: check the date of your appointment.")
    author.click("#compose button[type=submit]")
    expect(author.locator("#status")).to_have_text("draft")
    # The preview shows what every channel will show, footer included.
    expect(author.locator(".card[lang=es] .phone")).to_contain_text("cancelar avisos")
    expect(author.locator(".card[lang=en] .phone")).to_contain_text("stop alerts")
    expect(author.locator("#needs-approval")).to_be_visible()
    expect(author.locator("#approve")).to_have_count(0)  # nobody approves their own

    author.click("#test-send button[type=submit]")
    expect(author.locator("#tested")).to_be_visible()
    author.goto(f"{site.url}/")
    expect(author.locator(".msg.staff").first).to_contain_text("Aviso de prueba")
    expect(author.locator(".msg.staff")).to_have_count(2)  # Spanish and English
    assert site.api.sent() == []  # the test reached no subscriber

    approver = browser.new_context(locale="en-US").new_page()
    approver.set_default_timeout(30_000)
    staff_login(approver, site.url, APPROVER)
    approver.goto(f"{site.url}/admin/broadcasts")
    approver.locator("#broadcasts a").first.click()
    approver.click("#approve button[type=submit]")
    # The page refreshes itself while the job runs; the worker sends at Telegram's pace.
    expect(approver.locator("#status")).to_have_text("done", timeout=60_000)
    expect(approver.locator("#sent")).to_have_text("3")
    expect(approver.locator("#left")).to_have_text("0")
    expect(approver.locator("#modes")).to_contain_text("telegram: 3")
    sent = sorted(str(c.params["chat_id"]) for c in site.api.sent())
    assert sent == SUBSCRIBED_CHATS
    assert all(c.params["text"].startswith("Aviso de prueba") for c in site.api.sent())
    actions = _audit_actions(site.database_url)
    assert (AUTHOR[0], "broadcast_draft") in actions
    assert (AUTHOR[0], "broadcast_test") in actions
    assert (APPROVER[0], "broadcast_approve") in actions
    author.context.close()
    approver.context.close()
