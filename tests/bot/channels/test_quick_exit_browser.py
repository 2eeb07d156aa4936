"""Quick exit in real headless Chromium: the web chat served by the real app on 127.0.0.1."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.content import FileContentStore
from bot.settings import Settings
from tests.bot.channels.conftest import channel_stack_at
from tests.conftest import free_port


@dataclass
class Site:
    url: str
    neutral: str


@pytest.fixture(scope="module")
def site(
    settings: Settings, content: FileContentStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    neutral = f"{url}/healthz?neutral"
    configured = dataclasses.replace(settings, quick_exit_url=neutral)
    path = tmp_path_factory.mktemp("exit") / "exit.sqlite3"
    with channel_stack_at(configured, content, path) as stack:
        stack.base.classifier.say("hola", "greet")
        stack.serve_app(port=port)
        yield Site(url, neutral)


def chat(page: Page, site: Site, content: FileContentStore) -> list[str]:
    """Open a neutral page, then the chat, and talk: returns the texts on the page."""
    page.goto(f"{site.url}/healthz?before")
    page.goto(f"{site.url}/")
    expect(page.locator("#quick-exit")).to_be_visible()
    note = content.get("es", "quick_exit").text.strip()
    expect(page.locator("#quick-exit-note")).to_contain_text(note)
    page.fill("#text", "hola")
    page.press("#text", "Enter")
    greeting = content.get("es", "greet").text.strip()
    expect(page.locator(".msg.bot").last).to_contain_text(greeting[:40])
    page.evaluate("sessionStorage.setItem('ventanilla-draft', 'hola')")
    return ["hola", greeting[:40], content.get("es", "privacy_notice").text.strip()[:40]]


def assert_gone(page: Page, texts: list[str]) -> None:
    html = page.content()
    for text in texts[1:]:
        assert text not in html
    assert ">hola<" not in html
    storage = page.evaluate(
        "JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"
    )
    assert storage == "[[],[]]"


def test_quick_exit_leaves_no_chat_on_the_page_in_storage_or_behind_back(
    site: Site, browser: Browser, content: FileContentStore
) -> None:
    context = browser.new_context(locale="es-SV")  # the page follows the browser's language
    page = context.new_page()
    texts = chat(page, site, content)
    assert page.evaluate("localStorage.length + sessionStorage.length") > 0
    page.click("#quick-exit")
    page.wait_for_url(site.neutral)
    assert_gone(page, texts)  # same origin: its storage is the chat's storage
    page.go_back()
    page.wait_for_url(f"{site.url}/healthz?before")
    assert_gone(page, texts)
    assert not [c for c in context.cookies() if c["name"].startswith("ventanilla")]
    context.close()


def test_escape_twice_is_the_same_quick_exit(
    site: Site, browser: Browser, content: FileContentStore
) -> None:
    context = browser.new_context(locale="es-SV")  # the page follows the browser's language
    page = context.new_page()
    texts = chat(page, site, content)
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url(site.neutral)
    assert_gone(page, texts)
    page.go_back()
    page.wait_for_url(f"{site.url}/healthz?before")
    assert_gone(page, texts)
    context.close()
