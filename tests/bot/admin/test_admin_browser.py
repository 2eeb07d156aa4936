"""The staff pages in a real headless Chromium (Debian's) against the real app, DB and NLU."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from bot.admin.accounts import Role
from bot.admin.app import build_admin
from bot.admin.context import AdminDeps
from bot.alerts import StaffAlerter
from bot.channels.telegram import SECRET_HEADER, TelegramChannel, TelegramConfig
from bot.content import load_bundle
from bot.db import engine as db
from bot.db.content import ContentRepository, DbContentStore
from bot.db.inbox import Inbox
from bot.db.store import SqlStore
from bot.db.web_outbox import WebOutbox
from bot.engine import build_dispatcher, engine_over
from bot.nlu_client import RasaClient
from bot.outbound import Outbound
from bot.privacy import Protector
from bot.settings import Settings
from bot.web import build_app
from kernel.types import EngineResult, IncomingMessage
from tests.bot.admin.seed import seed_site
from tests.bot.conftest import staff_login
from tests.conftest import RunningNLU, engine_text, web_deps
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeBotAPI

pytestmark = pytest.mark.rasa

SECRET = "admin-browser-test-secret-" + "q" * 32
EDITOR = ("editor@example.org", "editor-password-1")
VIEWER = ("viewer@example.org", "viewer-password-1")
LOCKME = ("lockme@example.org", "lockme-password-1")
SCREENSHOTS = os.environ.get("VENTANILLA_SCREENSHOTS")  # a folder: save the main pages there
QUESTION = "perdi mi dui en el camino, como saco otro?"


TELEGRAM_TOKEN = "777:ADMIN-test"
TELEGRAM_SECRET = "admin-telegram-secret"
STAFF_GROUP = "-100999"
AGENT = ("agent@example.org", "agent-password-1")


@dataclass
class Site:
    url: str
    api: FakeBotAPI


async def _seed(database_url: str, settings: Settings) -> None:
    staff = [
        (EDITOR, Role.EDITOR),
        (VIEWER, Role.VIEWER),
        (LOCKME, Role.EDITOR),
        (AGENT, Role.AGENT),
    ]
    await seed_site(database_url, settings, staff)


@pytest.fixture(scope="module")
def site(
    settings: Settings, nlu_server: RunningNLU, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('admin') / 'admin.sqlite3'}"
    db.upgrade(database_url)
    # Playwright's sync API keeps an event loop running in this thread: seed from another.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _seed(database_url, settings)).result()
    engine = db.make_async_engine(database_url)
    sessions = db.sessions(engine)
    repository = ContentRepository(sessions)
    content = DbContentStore(repository, settings.default_language, settings.languages)
    protector = Protector(SECRET)
    store = SqlStore(sessions, protector)
    client = RasaClient(nlu_server.url, nlu_server.token, timeout_seconds=10)
    api = FakeBotAPI(TELEGRAM_TOKEN)
    with serve(api.app()) as api_url:
        # As in the composition root: Telegram feeds the dispatcher and carries its alerts.
        async def handle(message: IncomingMessage) -> EngineResult:
            return await dispatcher.handle(message)

        telegram = TelegramChannel(
            TelegramConfig(TELEGRAM_TOKEN, TELEGRAM_SECRET, "", api_url), handle
        )
        dispatcher = build_dispatcher(
            settings,
            client,
            store,
            content,
            text=engine_text(settings),
            on_handoff=StaffAlerter("http://staff/admin/inbox", telegram.send, STAFF_GROUP),
        )
        runtime = web_deps(settings, dispatcher, store, content, engine, protector)
        outbound = Outbound()
        outbound.register("telegram", telegram.deliver)
        outbound.register("web", WebOutbox(engine, protector).deliver)
        admin = build_admin(
            AdminDeps(
                settings,
                sessions,
                repository,
                content,
                engine_over(settings, client, engine_text(settings)),
                None,
                SECRET,
                Inbox(sessions, protector),
                outbound,
                store,
            )
        )
        with serve(build_app(runtime, [telegram], purge=False, admin=admin)) as url:
            yield Site(url, api)


@pytest.fixture
def content_store_es_emergency(settings: Settings) -> str:
    from bot.engine import file_content

    return "por favor " + file_content(settings).danger_phrases().emergency[0]


ENGLISH = "en-US"  # most tests read the English pages; Spanish has its own tests below
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale=ENGLISH)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def login(page: Page, site: Site, who: tuple[str, str]) -> None:
    staff_login(page, site.url, who)


def ask_web_chat(page: Page, site: Site, text: str) -> str:
    """The bot's answer to `text` (the page's greeting left out)."""
    page.goto(f"{site.url}/")
    bot = page.locator(".msg.bot")
    greeting = bot.count()
    page.fill("#text", text)
    page.press("#text", "Enter")
    expect(bot.nth(greeting)).to_be_visible()  # the answer's first bubble (no eval: CSP)
    page.wait_for_timeout(300)
    return "\n".join(bot.all_inner_texts()[greeting:])


def test_edit_preview_publish_ask_revert(site: Site, page: Page) -> None:
    login(page, site, EDITOR)
    expect(page.locator("h1")).to_have_text("Dashboard")
    page.goto(f"{site.url}/admin/content")
    shot(page, "admin-content-list")
    page.click("text=documents")
    old_text = page.input_value("#text-es")
    new_text = "Para reponer tu DUI, acercate a un DUIcentro del RNPN. Texto de prueba publicado."
    page.fill("#text-es", new_text)
    shot(page, "admin-content-edit")
    page.click("#edit-es button[type=submit]")
    expect(page.locator("#preview-whatsapp")).to_contain_text(new_text)
    expect(page.locator("#preview-telegram")).to_contain_text(new_text)
    expect(page.locator("#gate-ok")).to_be_visible()
    shot(page, "admin-draft-preview")
    page.click("text=Publish")
    expect(page.locator(".flash")).to_contain_text("Published")

    assert new_text in ask_web_chat(page, site, QUESTION)

    page.goto(f"{site.url}/admin/content/documents/es/history")
    shot(page, "admin-history")
    page.locator("text=Revert to this version").first.click()
    chat = ask_web_chat(page, site, QUESTION)
    assert new_text not in chat
    assert old_text.strip().splitlines()[0] in chat

    page.goto(f"{site.url}/admin/audit")
    expect(page.locator("table")).to_contain_text("publish")
    expect(page.locator("table")).to_contain_text("revert")


def test_viewer_cannot_edit(site: Site, page: Page) -> None:
    login(page, site, VIEWER)
    page.goto(f"{site.url}/admin/content/documents")
    expect(page.locator("#edit-es button[type=submit]")).to_have_count(0)
    csrf = page.input_value("#edit-es input[name=csrf]")
    response = page.request.post(
        f"{site.url}/admin/content/documents/es",
        form={"csrf": csrf, "title": "x", "text": "changed by a viewer"},
    )
    assert response.status == 403
    page.goto(f"{site.url}/admin/review")
    shot(page, "admin-needs-review")
    expect(page.locator("text=Mark reviewed today")).to_have_count(0)


def test_form_without_csrf_token_is_refused(site: Site, page: Page) -> None:
    login(page, site, EDITOR)
    response = page.request.post(
        f"{site.url}/admin/content/documents/es", form={"title": "x", "text": "no token"}
    )
    assert response.status == 403
    outside = httpx.post(
        f"{site.url}/admin/login", data={"email": EDITOR[0], "password": EDITOR[1]}
    )
    assert outside.status_code == 403


def test_five_wrong_passwords_lock_the_account(site: Site, page: Page) -> None:
    for _ in range(5):
        login(page, site, (LOCKME[0], "wrong-password"))
    expect(page.locator("[role=alert]")).to_contain_text("locked")
    login(page, site, LOCKME)
    expect(page.locator("[role=alert]")).to_contain_text("locked")
    shot(page, "admin-login-locked")


PERSON = 55577788


def _telegram_update(site: Site, text: str, message_id: int) -> None:
    import time

    update = {
        "update_id": 500 + message_id,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": PERSON, "type": "private"},
            "from": {"id": PERSON, "is_bot": False, "first_name": "X", "language_code": "es"},
            "text": text,
        },
    }
    response = httpx.post(
        f"{site.url}/webhooks/telegram",
        json=update,
        headers={SECRET_HEADER: TELEGRAM_SECRET},
        timeout=10,
    )
    assert response.status_code == 200


def _wait(condition, seconds: float = 15) -> None:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_agent_answers_a_telegram_ticket_and_closes_it(
    site: Site, page: Page, content_store_es_emergency: str
) -> None:
    _telegram_update(site, content_store_es_emergency, 1)
    site.api.wait_sent(2, PERSON)
    alerts = site.api.sent(STAFF_GROUP)
    site.api.wait_for(lambda _: len(site.api.sent(STAFF_GROUP)) == 1)
    alerts = site.api.sent(STAFF_GROUP)
    assert "CRITICAL" in alerts[0].params["text"]
    assert content_store_es_emergency not in alerts[0].params["text"]  # no personal text

    login(page, site, AGENT)
    page.goto(f"{site.url}/admin/inbox")
    shot(page, "admin-inbox")
    page.locator("#tickets a").first.click()
    expect(page.locator("#conversation")).to_contain_text(content_store_es_emergency)
    before = len(site.api.sent(PERSON))
    page.fill("#reply", "Hola, soy del equipo. Ya avisamos a la policia. Estas a salvo ahora?")
    page.click("text=Send")
    expect(page.locator("#delivery")).to_contain_text("Sent")
    shot(page, "admin-ticket")
    site.api.wait_for(lambda _: len(site.api.sent(PERSON)) == before + 1)
    assert site.api.sent(PERSON)[-1].params["text"].startswith("Hola, soy del equipo")
    page.select_option("#outcome", "emergency_services")
    page.click("text=Close ticket")
    expect(page.locator("#tickets")).to_contain_text("No open tickets")


def test_agent_reply_reaches_the_person_on_the_web_chat(site: Site, browser: Browser) -> None:
    person = browser.new_context(locale=ENGLISH).new_page()
    agent = browser.new_context(locale=ENGLISH).new_page()
    ask_web_chat(person, site, "quiero hablar con una persona del equipo")
    login(agent, site, AGENT)
    agent.goto(f"{site.url}/admin/inbox")
    agent.locator("#tickets tr", has_text="web").locator("a").first.click()
    agent.fill("#reply", "Hola, soy Ana del equipo. En que te ayudo?")
    agent.click("text=Send")
    expect(agent.locator("#delivery")).to_contain_text("Sent")
    # The person's page collects it on its next check, once.
    expect(person.locator(".msg.staff")).to_have_text("Hola, soy Ana del equipo. En que te ayudo?")
    person.wait_for_timeout(4500)
    expect(person.locator(".msg.staff")).to_have_count(1)
    agent.select_option("#outcome", "answered")
    agent.click("text=Close ticket")
    person.context.close()
    agent.context.close()


def test_viewer_sees_the_dashboard_but_not_the_inbox(
    site: Site, page: Page, settings: Settings
) -> None:
    login(page, site, VIEWER)
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("#chart-messages")).to_be_visible()
    # Stale-content report: how many answers are unconfirmed, and each review's age.
    bundle = load_bundle(settings.content_dir, settings.languages)
    people_read = [e for e in bundle.entries["es"].values() if e.kind in {"intent", "topic"}]
    unconfirmed = sum(e.needs_review for e in people_read)
    expect(page.locator("#content-summary")).to_contain_text(f"{unconfirmed} answers unconfirmed")
    expect(page.locator("#table-content-age tr")).to_have_count(len(people_read) + 1)
    expect(page.locator("#table-content-age")).to_contain_text("asylum_mexico")
    shot(page, "admin-dashboard")
    response = page.request.get(f"{site.url}/admin/inbox")
    assert response.status == 403
    csv = page.request.get(f"{site.url}/admin/dashboard.csv")
    assert csv.status == 200 and csv.text().startswith("metric,day,key,value")


def test_unanswered_question_becomes_a_training_example(site: Site, page: Page) -> None:
    ask_web_chat(page, site, "zorblax quimfel dravinto")  # words the model never saw
    login(page, site, EDITOR)
    page.goto(f"{site.url}/admin/unanswered")
    row = page.locator("tr", has_text="zorblax quimfel dravinto")
    expect(row).to_have_count(1)
    shot(page, "admin-unanswered")
    chooser = row.locator("select[name=intent]")
    assert chooser.input_value() == ""  # no topic is pre-selected: a slip must not train "asylum"
    chooser.select_option("documents")
    row.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("training example")
    page.goto(f"{site.url}/admin/audit")
    expect(page.locator("table")).to_contain_text("assign_example")


def test_spanish_by_default_and_the_choice_sticks(site: Site, browser: Browser) -> None:
    spanish = browser.new_context(locale="es-SV").new_page()
    spanish.goto(f"{site.url}/admin/login")
    expect(spanish.locator("h1")).to_have_text("Iniciar sesión")
    expect(spanish.locator("label[for=password]")).to_have_text("Contraseña")
    spanish.context.close()

    english = browser.new_context(locale=ENGLISH).new_page()
    login(english, site, VIEWER)
    expect(english.locator("h1")).to_have_text("Dashboard")
    english.click("#language-switch button[value=es]")
    expect(english.locator("h1")).to_have_text("Panel")
    expect(english.locator("html")).to_have_attribute("lang", "es")
    english.context.close()

    # A new browser in English: the account's choice wins after logging in.
    again = browser.new_context(locale=ENGLISH).new_page()
    login(again, site, VIEWER)
    expect(again.locator("h1")).to_have_text("Panel")
    again.click("#language-switch button[value=en]")
    expect(again.locator("h1")).to_have_text("Dashboard")
    again.context.close()


def test_inbox_and_ticket_read_well_on_a_phone(site: Site, browser: Browser) -> None:
    before = len(site.api.sent(PERSON))
    _telegram_update(site, "quiero hablar con una persona", 40)
    site.api.wait_sent(before + 1, PERSON)
    _telegram_update(site, "es sobre mi hijo", 41)
    phone = browser.new_context(locale="es-SV", viewport=PHONE, is_mobile=True).new_page()
    login(phone, site, AGENT)
    phone.goto(f"{site.url}/admin/inbox")
    expect(phone.locator("h1")).to_have_text("Bandeja")
    width = "document.documentElement.scrollWidth"
    assert phone.evaluate(width) <= PHONE["width"]  # the table reflows, nothing scrolls sideways
    first = phone.locator("#tickets td[data-label=Referencia]").first
    expect(first).to_be_visible()
    shot(phone, "admin-inbox-phone")
    phone.locator("#tickets tr", has_text="telegram").locator("a").first.click()
    messages = phone.locator("#conversation li")
    _wait(lambda: phone.reload() is None or messages.filter(has_text="sobre mi hijo").count() == 1)
    texts = messages.all_inner_texts()
    # One message per item, each saying who wrote it.
    assert all(t.split(" · ")[0] in ("Persona", "Bot", "Equipo") for t in texts), texts
    assert any(t.startswith("Bot") for t in texts) and any(t.startswith("Persona") for t in texts)
    assert phone.evaluate(width) <= PHONE["width"]
    shot(phone, "admin-ticket-phone")
    phone.select_option("#outcome", "answered")
    phone.click("#close")
    phone.context.close()
