"""The web chat page greets on open, in the browser's language, and reads well on a phone.

The real app on a real SQLite file; the page in Debian's Chromium (Playwright, the
`browser` fixture of tests/bot/conftest.py)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from bot.content import FileContentStore
from bot.settings import Settings
from handlers.answers import answer
from tests.bot.channels.conftest import channel_stack_at

NARROW = {"width": 320, "height": 640}
SCREENSHOTS = os.environ.get("VENTANILLA_SCREENSHOTS")  # a folder: save the page there


@pytest.fixture(scope="module")
def site(
    settings: Settings, content: FileContentStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    path = tmp_path_factory.mktemp("welcome") / "web.sqlite3"
    with channel_stack_at(settings, content, path) as stack:
        yield stack.serve_app(), path


def _first_line(content: FileContentStore, language: str, key: str) -> str:
    return content.get(language, key).text.strip().splitlines()[0]


@pytest.mark.parametrize(("accept", "language"), [("en-US,en;q=0.9", "en"), ("es-SV", "es")])
def test_the_page_greets_in_the_browser_language(
    site: tuple[str, Path], content: FileContentStore, accept: str, language: str
) -> None:
    url, database = site
    page = httpx.get(url + "/", headers={"Accept-Language": accept}).text
    assert f'<html lang="{language}">' in page
    assert _first_line(content, language, "greet").replace("'", "&#39;") in page
    prompt = content.get(language, "web_chat_prompt")
    assert f'placeholder="{prompt.text.strip()}"' in page
    assert f'aria-label="{prompt.title}"' in page
    for button in answer(content, language, "greet").buttons:
        assert f'data-payload="{button.payload}">{button.label}</button>' in page
    other = "es" if language == "en" else "en"
    assert _first_line(content, other, "greet").replace("'", "&#39;") not in page
    with sqlite3.connect(database) as db:  # a visit stores nothing
        assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def test_a_browser_in_another_language_gets_spanish(site: tuple[str, Path]) -> None:
    url, _ = site
    assert '<html lang="es">' in httpx.get(url + "/", headers={"Accept-Language": "fr"}).text


def test_welcome_at_320_pixels_and_a_topic_in_english(
    site: tuple[str, Path], content: FileContentStore, browser: Browser
) -> None:
    url, _ = site
    context = browser.new_context(locale="en-US", viewport=NARROW)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url + "/")
    greeting = page.locator(".msg.bot").first
    expect(greeting).to_contain_text(_first_line(content, "en", "greet"))
    prompt = content.get("en", "web_chat_prompt")
    expect(page.get_by_role("textbox", name=prompt.text.strip())).to_be_visible()
    expect(page.get_by_role("button", name=prompt.title)).to_be_visible()
    exit_en, exit_es = (content.get(language, "quick_exit") for language in ("en", "es"))
    expect(page.locator("#quick-exit")).to_have_text(exit_en.title)  # the page's language only
    expect(page.locator("#quick-exit-note")).to_have_text(exit_en.text.strip())
    for seen in (greeting, page.locator("#quick-exit"), page.get_by_role("textbox")):
        expect(seen).to_be_in_viewport()  # on the first screen, no scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    assert exit_es.text.strip() not in page.content()
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "webchat-320px.png"))
    topic = answer(content, "en", "greet").buttons[0]
    page.get_by_role("button", name=topic.label).click()
    key = topic.payload.removeprefix("topic:")
    expect(page.locator(".msg.bot").last).to_contain_text(_first_line(content, "en", key))
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    context.close()
