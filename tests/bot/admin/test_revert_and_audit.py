"""Revert passes the same checks as publish; the audit log names the right answer and
copies no person's words. Real HTTP against the real staff app and a SQLite file."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from bot.settings import Settings
from tests.bot.admin.test_login_security import EDITOR, UNANSWERED, _login, running_site


def _csrf(client: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def test_an_invalid_draft_cannot_go_live_by_revert(settings: Settings, tmp_path: Path) -> None:
    with running_site(settings, tmp_path / "revert.sqlite3", {}) as site, httpx.Client(
        base_url=site.url
    ) as editor:
        assert _login(editor, EDITOR).status_code == 303
        before = editor.get("/admin/content/trafficking_emergency").text
        csrf = _csrf(editor, "/admin/content/trafficking_emergency")
        saved = editor.post(
            "/admin/content/trafficking_emergency/es",
            data={"csrf": csrf, "title": "Emergencia", "text": "", "options": ""},
        )
        assert saved.status_code == 303
        draft_id = int(saved.headers["location"].rsplit("/", 1)[1])
        published = editor.post(
            f"/admin/content/trafficking_emergency/es/draft/{draft_id}/publish",
            data={"csrf": csrf},
        )
        assert published.status_code == 400
        # The same draft through another answer's revert address: not that answer's version.
        other = editor.post(
            f"/admin/content/documents/es/revert/{draft_id}", data={"csrf": csrf}
        )
        assert other.status_code == 404
        # Through its own answer's address: the same validation as publish refuses it.
        own = editor.post(
            f"/admin/content/trafficking_emergency/es/revert/{draft_id}", data={"csrf": csrf}
        )
        assert own.status_code == 400
        assert editor.get("/admin/content/trafficking_emergency").text == before
        audit = editor.get("/admin/audit").text
        assert "revert" not in audit


def test_the_audit_log_keeps_no_persons_words(settings: Settings, tmp_path: Path) -> None:
    with running_site(settings, tmp_path / "audit.sqlite3", {}) as site, httpx.Client(
        base_url=site.url
    ) as editor:
        assert httpx.post(f"{site.url}/api/chat", json={"text": UNANSWERED}).status_code == 200
        _login(editor, EDITOR)
        csrf = _csrf(editor, "/admin/unanswered")
        assigned = editor.post(
            "/admin/unanswered",
            data={"csrf": csrf, "text": UNANSWERED, "intent": "documents", "language": "es"},
        )
        assert assigned.status_code == 303
        added = editor.post(
            "/admin/tests",
            data={"csrf": csrf, "key": "documents", "language": "es", "text": "quimfel dui"},
        )
        assert added.status_code == 303
        audit = editor.get("/admin/audit").text
        assert "assign_example" in audit and "add_test_question" in audit
        assert "zorblax" not in audit and "quimfel" not in audit
