"""Avisos / Broadcasts: compose in both languages, preview, test-send, second-person approval,
progress while sending, statistics after. Every step is written in the audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.admin.accounts import Staff
from bot.admin.context import PageContext, PageGroup
from bot.admin.i18n import gettext as _
from bot.admin.security import checked_form
from bot.broadcast.config import BroadcastConfig
from bot.broadcast.runner import announcement
from bot.broadcast.senders import Result, WebSender
from bot.broadcast.topics import Topics
from bot.channels import telegram, webchat, whatsapp
from bot.channels.webchat import identity_of
from bot.db.broadcasts import ApprovalError, BroadcastJobs, Job, Progress
from bot.db.subscriptions import Recipient, Subscriptions
from bot.privacy import Protector

MAX_TEXT_CHARS = 1200  # with the footer, one message on every channel (WhatsApp: 1,600)
EL_SALVADOR = dt.timezone(dt.timedelta(hours=-6))


def _eta_seconds(left: dict[str, int], config: BroadcastConfig) -> float:
    """Lanes run side by side, so the slowest channel decides."""
    rates = {
        telegram.CHANNEL: config.telegram_per_second,
        whatsapp.CHANNEL: config.twilio_per_second,
    }
    return max((n / rates[c] for c, n in left.items() if c in rates and n), default=0.0)


def _send_at(value: str) -> dt.datetime | None:
    """A local El Salvador time from the form, stored as naive UTC like every timestamp."""
    if not value:
        return None
    try:
        local = dt.datetime.fromisoformat(value).replace(tzinfo=EL_SALVADOR)
    except ValueError as exc:
        raise HTTPException(400, _("The date and time are not valid.")) from exc
    return local.astimezone(dt.UTC).replace(tzinfo=None)


class BroadcastPages(PageGroup):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__(ctx)
        deps = ctx.deps
        self._engine: AsyncEngine = deps.sessions.kw["bind"]
        self._jobs = BroadcastJobs(self._engine)
        self._protector = Protector(deps.secret)
        self._subscriptions = Subscriptions(self._engine, self._protector)
        self._config = BroadcastConfig.from_settings(deps.settings)
        self._topics = Topics.from_file(self._config.topics_file, deps.settings.languages)

    def routes(self) -> list[Route]:
        allow = self._ctx.allow
        one = "/broadcasts/{job_id:int}"
        return [
            Route("/broadcasts", allow("view", self.index)),
            Route("/broadcasts", allow("edit", self.create), methods=["POST"]),
            Route(one, allow("view", self.show)),
            Route(one + "/test", allow("edit", self.test_send), methods=["POST"]),
            Route(one + "/approve", allow("edit", self.approve), methods=["POST"]),
            Route(one + "/cancel", allow("edit", self.cancel), methods=["POST"]),
        ]

    async def _job(self, request: Request) -> Job:
        job = await self._jobs.get(int(request.path_params["job_id"]))
        if job is None:
            raise HTTPException(404, _("No such broadcast."))
        return job

    async def index(self, request: Request, staff: Staff) -> Response:
        return self._render(
            request,
            "broadcasts.html",
            staff,
            jobs=await self._jobs.recent(),
            topics=self._topics.items,
            counts=await self._subscriptions.counts(),
            max_chars=MAX_TEXT_CHARS,
            config=self._config,
        )

    async def create(self, request: Request, staff: Staff) -> Response:
        form = await checked_form(request)
        topic = str(form.get("topic", ""))
        text_es = str(form.get("text_es", "")).strip()
        text_en = str(form.get("text_en", "")).strip()
        if self._topics.get(topic) is None:
            raise HTTPException(400, _("Choose a topic."))
        if not text_es or not text_en:
            raise HTTPException(400, _("Write the announcement in Spanish and in English."))
        if max(len(text_es), len(text_en)) > MAX_TEXT_CHARS:
            raise HTTPException(400, _("The announcement is too long."))
        send_at = _send_at(str(form.get("send_at", "")))
        job_id = await self._jobs.create(topic, text_es, text_en, staff.email, send_at)
        await self._ctx.audit.record(staff.email, "broadcast_draft", f"broadcast {job_id}", topic)
        return RedirectResponse(f"/admin/broadcasts/{job_id}", 303)

    async def show(self, request: Request, staff: Staff) -> Response:
        job = await self._job(request)
        progress: Progress = await self._jobs.progress(job.id)
        left = await self._jobs.left_by_channel(job.id)
        previews = {
            language: announcement(job, language, self._deps.content)
            for language in self._deps.settings.languages
        }
        topic = self._topics.get(job.topic)
        return self._render(
            request,
            "broadcast.html",
            staff,
            job=job,
            topic_name=topic.name(staff.language or "es") if topic else job.topic,
            progress=progress,
            eta=round(_eta_seconds(left, self._config)),
            previews=previews,
            template_sid=self._deps.settings.whatsapp_template_sid,
            can_approve=staff.can("edit") and job.status == "draft" and job.author != staff.email,
            tested=request.query_params.get("tested"),
            error=request.query_params.get("error"),
        )

    async def test_send(self, request: Request, staff: Staff) -> Response:
        """To the author's own web chat in this browser: its identity cookie says which."""
        job = await self._job(request)
        await checked_form(request)
        chat_id = identity_of(request)
        if chat_id is None:
            return RedirectResponse(f"/admin/broadcasts/{job.id}?error=no_chat", 303)
        sender = WebSender(self._engine)
        for language in self._deps.settings.languages:
            web = webchat.CHANNEL
            recipient = Recipient(
                0, web, self._protector.user_hash(web, chat_id), None, language, None
            )
            outcome = await sender.send(recipient, announcement(job, language, self._deps.content))
            if outcome.result is not Result.SENT:
                return RedirectResponse(f"/admin/broadcasts/{job.id}?error=test_failed", 303)
        await self._ctx.audit.record(
            staff.email, "broadcast_test", f"broadcast {job.id}", "own web chat"
        )
        return RedirectResponse(f"/admin/broadcasts/{job.id}?tested=1", 303)

    async def approve(self, request: Request, staff: Staff) -> Response:
        job = await self._job(request)
        await checked_form(request)
        try:
            await self._jobs.approve(job.id, staff.email, self._config.max_per_week)
        except ApprovalError as exc:
            await self._ctx.audit.record(
                staff.email, "broadcast_approve_refused", f"broadcast {job.id}"
            )
            raise HTTPException(409, str(exc)) from exc
        await self._ctx.audit.record(
            staff.email, "broadcast_approve", f"broadcast {job.id}", job.topic
        )
        return RedirectResponse(f"/admin/broadcasts/{job.id}", 303)

    async def cancel(self, request: Request, staff: Staff) -> Response:
        job = await self._job(request)
        await checked_form(request)
        if await self._jobs.cancel(job.id):
            await self._ctx.audit.record(
                staff.email, "broadcast_cancel", f"broadcast {job.id}", job.status
            )
        return RedirectResponse(f"/admin/broadcasts/{job.id}", 303)
