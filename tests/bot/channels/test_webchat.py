"""The web chat's JSON API: questions in, staff replies collected by the page."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from bot.content import FileContentStore
from bot.core import Reply
from bot.db import engine as db
from bot.db.web_outbox import WebOutbox
from bot.privacy import Protector
from bot.runtime import Runtime
from bot.settings import Settings
from bot.web import build_app
from tests.conftest import sqlite_stack
from tests.fakes.server import serve


def _deliver(database_url: str, protector: Protector, user_id: str, texts: list[str]) -> bool:
    """Staff's side, on its own engine and event loop, as the inbox page would."""

    async def go() -> bool:
        engine = db.make_async_engine(database_url)
        try:
            delivery = await WebOutbox(engine, protector).deliver(
                user_id, [Reply(t) for t in texts]
            )
            return delivery.sent
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_staff_replies_are_collected_once_and_only_by_their_person(
    settings: Settings, content: FileContentStore, tmp_path: Path
) -> None:
    stack = sqlite_stack(settings, content, tmp_path / "web.sqlite3")
    runtime = Runtime(
        settings, stack.dispatcher, stack.store, content, stack.engine, stack.protector
    )
    with serve(build_app(runtime, [], purge=False)) as url:
        asked = httpx.post(
            f"{url}/api/chat", json={"user_id": "web-abc", "text": "hola", "message_id": 1}
        )
        assert asked.status_code == 200 and asked.json()["replies"]
        staff = ["Hola, soy del equipo.", "Sigo aqui."]
        assert _deliver(stack.url, stack.protector, "web-abc", staff)
        assert httpx.get(f"{url}/api/chat/updates", params={"user_id": "web-xyz"}).json() == {
            "replies": []
        }
        first = httpx.get(f"{url}/api/chat/updates", params={"user_id": "web-abc"}).json()
        assert [r["text"] for r in first["replies"]] == staff
        again = httpx.get(f"{url}/api/chat/updates", params={"user_id": "web-abc"}).json()
        assert again == {"replies": []}
        assert httpx.get(f"{url}/api/chat/updates").status_code == 400
        assert httpx.get(f"{url}/api/chat/updates", params={"user_id": "x" * 65}).status_code == 400


def test_erasure_removes_replies_still_waiting(
    settings: Settings, content: FileContentStore, tmp_path: Path
) -> None:
    stack = sqlite_stack(settings, content, tmp_path / "web-forget.sqlite3")
    outbox = WebOutbox(stack.engine, stack.protector)

    async def scenario() -> list[str]:
        try:
            await outbox.deliver("web-gone", [Reply("Respuesta del equipo")])
            await stack.store.forget("web", "web-gone")
            return await outbox.take("web-gone")
        finally:
            await stack.engine.dispose()

    assert asyncio.run(scenario()) == []
