"""Keeping answers true: what is expired, unreviewed or unconfirmed, and the test questions
every draft must keep answering."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.admin import i18n
from bot.admin.accounts import Staff
from bot.admin.content_pages import EDIT, published_data
from bot.admin.context import PageGroup
from bot.admin.i18n import gettext as _
from bot.admin.security import checked_form
from bot.db.content import dump_entry
from handlers.answers import is_expired
from kernel.types import ContentEntry

REVIEW_EXTENSION = dt.timedelta(days=182)


def _review_reasons(entry: ContentEntry) -> list[str]:
    reasons = []
    if is_expired(entry):
        reasons.append(_("expired on %(day)s") % {"day": i18n.format_date(entry.expires_on)})
    if not entry.reviewed_on:
        reasons.append(_("never reviewed"))
    if entry.needs_review:
        reasons.append(_("facts to confirm"))
    return reasons


class ReviewPages(PageGroup):
    def routes(self) -> list[Route]:
        allow = self._ctx.allow
        return [
            Route(EDIT + "/reviewed", allow("edit", self.mark_reviewed), methods=["POST"]),
            Route("/review", allow("view", self.review)),
            Route("/tests", allow("view", self.tests_page)),
            Route("/tests", allow("edit", self.add_test), methods=["POST"]),
        ]

    async def review(self, request: Request, staff: Staff) -> Response:
        await self._deps.content.refresh(force=True)
        bundle = self._deps.content.bundle
        rows: list[dict[str, Any]] = []
        for language in self._settings.languages:
            for entry in bundle.entries[language].values():
                reasons = _review_reasons(entry)
                if reasons:
                    rows.append({"entry": entry, "reasons": reasons, "expired": is_expired(entry)})
        rows.sort(key=lambda r: (not r["expired"], r["entry"].key))
        return self._render(request, "review.html", staff, rows=rows)

    async def mark_reviewed(self, request: Request, staff: Staff) -> Response:
        key, language = request.path_params["key"], request.path_params["lang"]
        await checked_form(request)
        repository = self._deps.repository
        data = await published_data(repository, key, language)
        today = dt.date.today()
        data["reviewed_on"] = today
        if data.get("expires_on"):
            data["expires_on"] = today + REVIEW_EXTENSION
        draft = await repository.save_draft(key, language, dump_entry(data), staff.email)
        await repository.publish(draft.id)
        await self._ctx.audit.record(
            staff.email, "mark_reviewed", f"{language}/{key}", today.isoformat()
        )
        await self._deps.content.refresh(force=True)
        return RedirectResponse("/admin/review", 303)

    async def tests_page(self, request: Request, staff: Staff) -> Response:
        questions = await self._deps.repository.test_questions()
        return self._render(
            request,
            "tests.html",
            staff,
            questions=questions,
            keys=sorted(self._deps.content.bundle.entries[self._settings.default_language]),
        )

    async def add_test(self, request: Request, staff: Staff) -> Response:
        form = await checked_form(request)
        key, language = str(form.get("key", "")), str(form.get("language", ""))
        text = str(form.get("text", "")).strip()
        content = self._deps.content
        if not text or language not in self._settings.languages or not content.has(language, key):
            raise HTTPException(400, _("Choose an answer and a language, and write a question."))
        if await self._deps.repository.add_test_question(key, language, text, staff.email):
            # The question itself stays out of the log: it may be a person's own words.
            await self._ctx.audit.record(
                staff.email, "add_test_question", f"{language}/{key}", f"{len(text)} characters"
            )
        return RedirectResponse("/admin/tests", 303)
