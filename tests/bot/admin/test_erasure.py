"""Complete erasure: a unique marker written through every path that stores text is gone
from every table and from the SQLite files' bytes after "delete my data" and after the
retention purge."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sqlite3
import uuid
from pathlib import Path

import httpx

from bot.admin.accounts import AuditLog
from bot.channels.webchat import COOKIE
from bot.db import engine as db
from bot.db.store import SqlStore
from bot.db.web_outbox import WebOutbox
from bot.privacy import Protector
from bot.settings import Settings
from kernel.types import Reply
from tests.bot.admin.test_login_security import EDITOR, SECRET, _login, running_site


def _marker() -> str:
    """Letters only: digits in a message may be read as a menu choice, not as words."""
    return "mk" + uuid.uuid4().hex.translate(str.maketrans("0123456789", "ghijklmnop"))


def _csrf(client: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def _where_is(database: Path, marker: str) -> list[str]:
    """Every table and column holding the marker, and every database file containing it."""
    found: list[str] = []
    connection = sqlite3.connect(database)
    try:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            columns = [r[1] for r in connection.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                hits = connection.execute(
                    f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS TEXT) LIKE ?',
                    (f"%{marker}%",),
                ).fetchone()[0]
                if hits:
                    found.append(f"{table}.{column}")
    finally:
        connection.close()
    for path in database.parent.glob(database.name + "*"):
        if marker.encode() in path.read_bytes():
            found.append(f"file {path.name}")
    return found


def _write_marker_everywhere(url: str, database_url: str, marker: str) -> httpx.Client:
    """The person writes it, staff copy it into an example, a test question, (as an older
    release did) the audit log, and send it back in a reply. Returns the person's client."""
    person = httpx.Client(base_url=url)
    assert person.post("/api/chat", json={"text": f"{marker} zorblax"}).status_code == 200
    assert person.post("/api/chat", json={"payload": "topic:talk_to_human"}).is_success
    assert person.post("/api/chat", json={"text": f"{marker} quimfel"}).status_code == 200
    with httpx.Client(base_url=url) as editor:
        _login(editor, EDITOR)
        csrf = _csrf(editor, "/admin/unanswered")
        assert f"{marker} zorblax" in editor.get("/admin/unanswered").text
        assigned = editor.post(
            "/admin/unanswered",
            data={
                "csrf": csrf,
                "text": f"{marker} zorblax",
                "intent": "documents",
                "language": "es",
            },
        )
        assert assigned.status_code == 303
        added = editor.post(
            "/admin/tests",
            data={"csrf": csrf, "key": "documents", "language": "es", "text": f"{marker} quimfel"},
        )
        assert added.status_code == 303

    async def staff_side() -> None:
        engine = db.make_async_engine(database_url)
        try:
            await AuditLog(db.sessions(engine)).record(
                "old-release", "assign_example", "documents", f"{marker} zorblax"
            )
            await WebOutbox(engine, Protector(SECRET)).deliver(
                person.cookies[COOKIE], [Reply(f"Hola, sobre {marker}: ...")]
            )
        finally:
            await engine.dispose()

    asyncio.run(staff_side())
    return person


def test_delete_my_data_leaves_no_trace_of_the_marker(settings: Settings, tmp_path: Path) -> None:
    database = tmp_path / "erase.sqlite3"
    marker = _marker()
    with running_site(settings, database, {}) as site:
        person = _write_marker_everywhere(site.url, site.database_url, marker)
        before = _where_is(database, marker)
        assert {"messages.text", "training_examples.text", "test_questions.text"} <= set(before)
        assert {"audit_events.detail", "web_outbox.text"} <= set(before)
        for text in ("borrar mis datos", "si"):
            assert person.post("/api/chat", json={"text": text}).status_code == 200
        person.close()
        assert _where_is(database, marker) == []


def test_the_retention_purge_leaves_no_trace_of_the_marker(
    settings: Settings, tmp_path: Path
) -> None:
    database = tmp_path / "purge.sqlite3"
    marker = _marker()
    with running_site(settings, database, {}) as site:
        _write_marker_everywhere(site.url, site.database_url, marker).close()
        assert "training_examples.text" in _where_is(database, marker)

        async def purge() -> None:
            engine = db.make_async_engine(site.database_url)
            try:
                store = SqlStore(db.sessions(engine), Protector(SECRET))
                await store.purge(30, now=dt.datetime.now() + dt.timedelta(days=31))
            finally:
                await engine.dispose()

        asyncio.run(purge())
        assert _where_is(database, marker) == []
