"""The web chat's JSON API: a server-issued identity, abuse limits, staff replies acknowledged."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from pathlib import Path

import httpx
from limits import parse

from bot.alerts import StaffAlerter
from bot.channels.webchat import COOKIE
from bot.content import FileContentStore
from bot.db import engine as db
from bot.db.web_outbox import WebOutbox
from bot.metrics import Metrics
from bot.privacy import Protector
from bot.ratelimit import RateLimits, handoff_cooldown
from bot.settings import Settings
from bot.web import build_app
from kernel.types import Reply
from tests.bot.channels.conftest import ChannelStack
from tests.conftest import sqlite_stack, web_deps
from tests.fakes.server import serve

EMERGENCY = {"payload": "topic:trafficking_emergency"}


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


def _texts(response: httpx.Response) -> list[str]:
    return [r["text"] for r in response.json()["replies"]]


def test_staff_replies_reach_only_their_person_and_leave_after_the_page_acknowledges(
    channel_stack: ChannelStack,
) -> None:
    url, stack = channel_stack.serve_app(), channel_stack.base
    with (
        httpx.Client(base_url=url) as person,
        httpx.Client(base_url=url) as other,
    ):
        asked = person.post("/api/chat", json={"text": "hola", "message_id": 1})
        assert asked.status_code == 200 and asked.json()["replies"]
        cookie = asked.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        identity = person.cookies[COOKIE]
        # A second message keeps the identity: no new cookie.
        again = person.post("/api/chat", json={"text": "hola", "message_id": 2})
        assert again.status_code == 200 and "set-cookie" not in again.headers

        staff = ["Hola, soy del equipo.", "Sigo aqui."]
        assert _deliver(stack.url, stack.protector, identity, staff)

        # Someone else, even naming the person's id the old way, sees nothing of it...
        assert other.post("/api/chat", json={"text": "hola", "user_id": identity}).is_success
        assert other.get("/api/chat/updates", params={"user_id": identity}).json() == {
            "replies": []
        }
        # ... cannot acknowledge (remove) it ...
        assert other.post("/api/chat/updates/ack", json={"up_to": 10**9}).json() == {"removed": 0}
        # ... and cannot erase it by asking to delete "their" data with the person's id.
        for text in ("borrar mis datos", "si"):
            other.post("/api/chat", json={"text": text, "user_id": identity})
        # A visitor with no cookie or a forged one gets nothing either.
        assert httpx.get(f"{url}/api/chat/updates").json() == {"replies": []}
        forged = httpx.get(f"{url}/api/chat/updates", cookies={COOKIE: "x" * 43})
        assert forged.json() == {"replies": []}

        first = person.get("/api/chat/updates")
        assert _texts(first) == staff
        # Not acknowledged yet (the page went offline): still there on the next poll.
        assert _texts(person.get("/api/chat/updates")) == staff
        last_id = first.json()["replies"][-1]["id"]
        assert person.post("/api/chat/updates/ack", json={"up_to": last_id}).json() == {
            "removed": 2
        }
        assert person.get("/api/chat/updates").json() == {"replies": []}


def test_cross_origin_and_non_json_posts_are_refused(channel_stack: ChannelStack) -> None:
    url, stack = channel_stack.serve_app(), channel_stack.base
    evil = httpx.post(f"{url}/api/chat", json=EMERGENCY, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    # What a plain HTML form or a no-preflight fetch from another site can send.
    form = httpx.post(
        f"{url}/api/chat",
        content=b'{"payload": "topic:trafficking_emergency"}',
        headers={"Content-Type": "text/plain"},
    )
    assert form.status_code == 415
    fetched = httpx.post(
        f"{url}/api/chat", json=EMERGENCY, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert fetched.status_code == 403
    own = httpx.post(f"{url}/api/chat", json={"text": "hola"}, headers={"Origin": url})
    assert own.status_code == 200
    tickets = sqlite3.connect(stack.url.removeprefix("sqlite:///"))
    assert tickets.execute("select count(*) from handoff_tickets").fetchone() == (0,)


def test_a_thousand_messages_from_one_identity_are_limited_and_alerts_capped(
    settings: Settings, content: FileContentStore, tmp_path: Path
) -> None:
    alerts: list[str] = []

    async def telegram_send(chat_id: str, replies: list[Reply]) -> None:
        alerts.append(replies[0].text)

    cap = 3
    counters = Metrics()
    limits = RateLimits.from_settings(settings.limits, counters)
    stack = sqlite_stack(
        settings,
        content,
        tmp_path / "flood.sqlite3",
        metrics=counters,
        on_handoff=StaffAlerter(
            "http://staff/admin/inbox", telegram_send, "-100", max_per_minute=cap, metrics=counters
        ),
        handoff_gate=handoff_cooldown(limits),
    )
    runtime = web_deps(
        settings, stack.dispatcher, stack.store, content, stack.engine, stack.protector, limits
    )
    per_identity = parse(settings.limits["web_per_identity"]).amount
    new_per_ip = parse(settings.limits["web_new_identity_per_ip"]).amount
    database = sqlite3.connect(stack.url.removeprefix("sqlite:///"))
    with serve(build_app(runtime, [], purge=False)) as url, httpx.Client(base_url=url) as one:
        statuses = [one.post("/api/chat", json=EMERGENCY).status_code for _ in range(1000)]
        assert statuses[:per_identity] == [200] * per_identity
        assert set(statuses[per_identity:]) == {429}
        refused = one.post("/api/chat", json=EMERGENCY)
        assert int(refused.headers["Retry-After"]) >= 1
        assert database.execute("select count(*) from handoff_tickets").fetchone() == (1,)
        metrics = httpx.get(f"{url}/metrics").text
        assert 'ventanilla_rate_limited_total{limit="web_per_identity"}' in metrics
    # A new server (fresh counters): a script that drops the cookie gets a new identity
    # each time; the address is limited in how many it may obtain, and staff get at
    # most `cap` alerts.
    fresh_limits = RateLimits.from_settings(settings.limits, counters)
    with serve(build_app(replace(runtime, limits=fresh_limits), [], purge=False)) as url:
        fresh = [httpx.post(f"{url}/api/chat", json=EMERGENCY).status_code for _ in range(100)]
        assert fresh.count(200) <= new_per_ip and fresh[-1] == 429
        tickets = database.execute("select count(*) from handoff_tickets").fetchone()[0]
        assert tickets <= 1 + new_per_ip
        assert 1 <= len(alerts) <= cap
        assert all("trafficking" in a for a in alerts)
        metrics = httpx.get(f"{url}/metrics").text
        assert 'ventanilla_rate_limited_total{limit="web_new_identity_per_ip"}' in metrics
        assert "ventanilla_staff_alerts_held_total" in metrics


def test_erasure_removes_replies_still_waiting(
    settings: Settings, content: FileContentStore, tmp_path: Path
) -> None:
    stack = sqlite_stack(settings, content, tmp_path / "web-forget.sqlite3")
    outbox = WebOutbox(stack.engine, stack.protector)

    async def scenario() -> list[tuple[int, str]]:
        try:
            await outbox.deliver("web-gone", [Reply("Respuesta del equipo")])
            await stack.store.forget("web", "web-gone")
            return await outbox.pending("web-gone")
        finally:
            await stack.engine.dispose()

    assert asyncio.run(scenario()) == []
