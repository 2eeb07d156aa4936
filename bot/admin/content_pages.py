"""Editing answers: the list, drafts with a preview and the test gate, publishing, history, revert.

Nothing goes live without passing the gate (bot/admin/gate.py); an override of failing
test questions is written in the audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.admin import i18n
from bot.admin.accounts import Staff
from bot.admin.context import PageContext, PageGroup
from bot.admin.gate import GateReport, run_gate
from bot.admin.i18n import gettext as _
from bot.admin.security import checked_form
from bot.channels.render import numbered_text
from bot.content import FileContentStore, bundle_from_texts
from bot.db.content import ContentRepository, Version, dump_entry, unified_diff
from handlers.answers import answer, is_expired

EDIT = "/content/{key}/{lang}"


async def published_data(repository: ContentRepository, key: str, language: str) -> dict[str, Any]:
    """The published entry as editable data; 404 when the answer has no text in `language`."""
    version = await repository.published(key, language)
    if version is None:
        raise HTTPException(
            404,
            _("No published %(language)s answer for %(key)s.")
            % {"language": i18n.language_name(language), "key": key},
        )
    return version.data()


def _draft_data(data: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """The published entry with what the edit form changed."""
    data["title"] = str(form.get("title", "")).strip()
    data["text"] = str(form.get("text", "")).replace("\r\n", "\n").strip()
    data["options"] = [o.strip() for o in str(form.get("options", "")).split(",") if o.strip()]
    data["needs_review"] = form.get("needs_review") == "on"
    data["review_notes"] = str(form.get("review_notes", "")).strip()
    for date_field in ("reviewed_on", "expires_on"):
        value = str(form.get(date_field, "")).strip()
        data[date_field] = dt.date.fromisoformat(value) if value else None
    return data


def _override_note(gate: GateReport) -> str:
    return (
        f"; OVERRIDE of {len(gate.failing)} failing test questions" if gate.needs_override else ""
    )


class ContentPages(PageGroup):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__(ctx)
        self._repository = ctx.deps.repository

    def routes(self) -> list[Route]:
        allow = self._ctx.allow
        return [
            Route("/content", allow("view", self.content_list)),
            Route("/content/{key}", allow("view", self.content_edit)),
            Route(EDIT, allow("edit", self.save_draft), methods=["POST"]),
            Route(EDIT + "/draft/{version_id:int}", allow("view", self.draft_page)),
            Route(
                EDIT + "/draft/{version_id:int}/publish",
                allow("edit", self.publish),
                methods=["POST"],
            ),
            Route(EDIT + "/history", allow("view", self.history)),
            Route(EDIT + "/revert/{version_id:int}", allow("edit", self.revert), methods=["POST"]),
        ]

    async def _gate(self, version: Version) -> GateReport:
        return await run_gate(self._settings, self._repository, self._deps.engine_for, version)

    async def content_list(self, request: Request, staff: Staff) -> Response:
        await self._deps.content.refresh(force=True)
        bundle = self._deps.content.bundle
        first = self._settings.default_language
        rows = [
            {
                "key": key,
                "entries": {
                    lang: bundle.entries[lang].get(key) for lang in self._settings.languages
                },
                "expired": is_expired(bundle.entries[first][key]),
            }
            for key in sorted(bundle.entries[first])
        ]
        return self._render(request, "content_list.html", staff, rows=rows)

    async def content_edit(self, request: Request, staff: Staff) -> Response:
        key = request.path_params["key"]
        entries = {
            lang: await published_data(self._repository, key, lang)
            for lang in self._settings.languages
        }
        return self._render(request, "content_edit.html", staff, key=key, entries=entries)

    async def save_draft(self, request: Request, staff: Staff) -> Response:
        key, language = request.path_params["key"], request.path_params["lang"]
        form = await checked_form(request)
        data = _draft_data(await published_data(self._repository, key, language), form)
        draft = await self._repository.save_draft(key, language, dump_entry(data), staff.email)
        await self._ctx.audit.record(
            staff.email, "save_draft", f"{language}/{key}", f"version {draft.version}"
        )
        return RedirectResponse(f"/admin/content/{key}/{language}/draft/{draft.id}", 303)

    async def _preview(self, draft_body: str, key: str, language: str) -> dict[str, Any]:
        published = await self._repository.published_texts()
        items = [(lang, k, body) for lang, k, body in published if (lang, k) != (language, key)]
        store = FileContentStore(
            bundle_from_texts([*items, (language, key, draft_body)], self._settings.languages),
            self._settings.default_language,
        )
        reply = answer(store, language, key)
        return {
            "whatsapp": numbered_text(reply),
            "telegram_text": reply.text,
            "telegram_buttons": [b.label for b in reply.buttons],
        }

    async def draft_page(self, request: Request, staff: Staff) -> Response:
        key, language = request.path_params["key"], request.path_params["lang"]
        draft = await self._repository.get(int(request.path_params["version_id"]))
        if draft is None or (draft.key, draft.language) != (key, language):
            raise HTTPException(404, _("No such draft."))
        current = await self._repository.published(key, language)
        gate = await self._gate(draft)
        try:
            preview = await self._preview(draft.body, key, language)
        except Exception as exc:
            preview = {"error": str(exc)}
        diff = unified_diff(current.body if current else "", draft.body)
        return self._render(
            request,
            "draft.html",
            staff,
            key=key,
            language=language,
            draft=draft,
            gate=gate,
            preview=preview,
            diff=diff,
        )

    async def publish(self, request: Request, staff: Staff) -> Response:
        key, language = request.path_params["key"], request.path_params["lang"]
        form = await checked_form(request)
        draft = await self._repository.get(int(request.path_params["version_id"]))
        if draft is None or draft.status != "draft":
            raise HTTPException(404, _("No such draft."))
        gate = await self._gate(draft)
        if gate.errors:
            raise HTTPException(400, _("This draft is not valid: ") + "; ".join(gate.errors))
        override = form.get("override") == "on"
        if gate.needs_override and not override:
            raise HTTPException(
                409, _("Test questions fail with this draft: tick the box to publish anyway.")
            )
        published = await self._repository.publish(draft.id)
        detail = f"version {published.version}" + _override_note(gate)
        await self._ctx.audit.record(staff.email, "publish", f"{language}/{key}", detail)
        await self._deps.content.refresh(force=True)
        return RedirectResponse(f"/admin/content/{key}?published={language}", 303)

    async def history(self, request: Request, staff: Staff) -> Response:
        key, language = request.path_params["key"], request.path_params["lang"]
        versions = await self._repository.history(key, language)
        diffs = [
            unified_diff(versions[i + 1].body, v.body) if i + 1 < len(versions) else []
            for i, v in enumerate(versions)
        ]
        return self._render(
            request,
            "history.html",
            staff,
            key=key,
            language=language,
            rows=list(zip(versions, diffs, strict=True)),
        )

    async def revert(self, request: Request, staff: Staff) -> Response:
        """An old text goes live only through the same checks as a new one: it must belong
        to the answer in the address, be valid today, and pass the test questions."""
        key, language = request.path_params["key"], request.path_params["lang"]
        form = await checked_form(request)
        version_id = int(request.path_params["version_id"])
        old = await self._repository.get(version_id)
        if old is None or (old.key, old.language) != (key, language):
            raise HTTPException(404, _("This answer has no such version."))
        gate = await self._gate(old)
        if gate.errors:
            problems = "; ".join(gate.errors)
            raise HTTPException(400, _("This version is not valid today: ") + problems)
        override = form.get("override") == "on"
        if gate.needs_override and not override:
            raise HTTPException(
                409,
                _(
                    "Test questions would fail with this version: save it as a draft to see"
                    " the test results, and publish it from there if it must go out anyway."
                ),
            )
        published = await self._repository.revert(version_id, staff.email)
        detail = f"to the text of version id {version_id}, now version {published.version}"
        await self._ctx.audit.record(
            staff.email, "revert", f"{language}/{key}", detail + _override_note(gate)
        )
        await self._deps.content.refresh(force=True)
        return RedirectResponse(f"/admin/content/{key}/{language}/history", 303)
