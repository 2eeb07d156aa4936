"""Teaching the classifier: what people asked that got no answer, turning it into training
examples, and retraining from the staff pages."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.admin import retrain_progress
from bot.admin.accounts import Staff
from bot.admin.context import PageGroup
from bot.admin.i18n import gettext as _
from bot.admin.security import checked_form
from bot.db.models import Message, TrainingExample
from kernel.normalize import normalize_text

UNANSWERED_ROUTES = ("fallback", "unknown_words")
MOST_ASKED = 200


class TrainingPages(PageGroup):
    def routes(self) -> list[Route]:
        allow = self._ctx.allow
        return [
            Route("/unanswered", allow("view", self.unanswered)),
            Route("/unanswered", allow("edit", self.assign), methods=["POST"]),
            Route("/retrain", allow("view", self.retrain_page)),
            Route("/retrain", allow("edit", self.retrain_start), methods=["POST"]),
        ]

    async def _unanswered_counts(
        self,
    ) -> tuple[Counter[tuple[str, str]], dict[tuple[str, str], str]]:
        """How often each unanswered question came, by its normalised text and language,
        and one way a person wrote it."""
        async with self._deps.sessions() as session:
            rows = await session.execute(
                select(Message.text, Message.language).where(
                    Message.direction == "in",
                    Message.route.in_(UNANSWERED_ROUTES),
                    Message.text.is_not(None),
                )
            )
            counts: Counter[tuple[str, str]] = Counter()
            samples: dict[tuple[str, str], str] = {}
            for text, language in rows.all():
                normalized = normalize_text(text or "")
                if normalized:
                    counts[(normalized, language or "")] += 1
                    samples.setdefault((normalized, language or ""), text or "")
        return counts, samples

    async def unanswered(self, request: Request, staff: Staff) -> Response:
        counts, samples = await self._unanswered_counts()
        # Viewers see how often, not what: people's words are for those who act on them.
        show = staff.can("inbox")
        items = [
            {"text": samples[k] if show else "", "language": k[1], "count": c}
            for k, c in counts.most_common(MOST_ASKED)
        ]
        content, first = self._deps.content, self._settings.default_language
        intents = [
            k for k in content.bundle.entries[first] if content.get(first, k).kind == "intent"
        ]
        return self._render(request, "unanswered.html", staff, items=items, intents=sorted(intents))

    async def assign(self, request: Request, staff: Staff) -> Response:
        form = await checked_form(request)
        text, intent = str(form.get("text", "")).strip(), str(form.get("intent", ""))
        language = str(form.get("language", "")) or self._settings.default_language
        if not text or not self._deps.content.has(self._settings.default_language, intent):
            raise HTTPException(400, _("Choose a topic."))
        async with self._deps.sessions.begin() as session:
            session.add(
                TrainingExample(text=text, intent=intent, language=language, created_by=staff.email)
            )
        # The example is a person's words: the log says what was done, not what they wrote.
        await self._ctx.audit.record(
            staff.email, "assign_example", intent, f"{len(text)} characters"
        )
        return RedirectResponse("/admin/unanswered?assigned=1", 303)

    async def retrain_page(self, request: Request, staff: Staff) -> Response:
        retrainer = self._deps.retrainer
        jobs = await retrainer.jobs() if retrainer else []
        live = {job_id: p.shown() for job_id, p in retrainer.progress.items()} if retrainer else {}
        return self._render(
            request,
            "retrain.html",
            staff,
            jobs=jobs,
            live=live,
            saved={job.id: retrain_progress.stored(job.progress) for job in jobs},
            running=bool(retrainer and retrainer.running),
            available=retrainer is not None,
        )

    async def retrain_start(self, request: Request, staff: Staff) -> Response:
        await checked_form(request)
        if self._deps.retrainer is None:
            raise HTTPException(
                409, _("Retraining needs the local NLU server (NLU_URL points elsewhere).")
            )
        try:
            job_id = await self._deps.retrainer.start(staff.email)
        except RuntimeError as exc:
            raise HTTPException(409, _(str(exc))) from exc
        await self._ctx.audit.record(staff.email, "retrain", f"job {job_id}")
        return RedirectResponse("/admin/retrain", 303)
