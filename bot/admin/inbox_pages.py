"""The handoff inbox (agents) and the dashboard (everyone)."""

from __future__ import annotations

import datetime as dt

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.admin import dashboard
from bot.admin.accounts import Staff
from bot.admin.context import PageGroup
from bot.admin.i18n import gettext as _
from bot.admin.security import checked_form
from bot.admin.stale import stale_report
from kernel.types import Reply

OUTCOMES = ("answered", "referred", "emergency_services", "no_reply", "duplicate")
MAX_REPLY_CHARS = 4000
MAX_EXPORT_DAYS = 366  # a year of figures; more would build files of megabytes on request


class InboxPages(PageGroup):
    def routes(self) -> list[Route]:
        allow = self._ctx.allow
        return [
            Route("/", allow("view", self.home)),
            Route("/dashboard.csv", allow("view", self.export)),
            Route("/inbox", allow("inbox", self.inbox)),
            Route("/inbox/{reference}", allow("inbox", self.ticket)),
            Route("/inbox/{reference}/reply", allow("inbox", self.reply), methods=["POST"]),
            Route("/inbox/{reference}/close", allow("inbox", self.close), methods=["POST"]),
        ]

    async def home(self, request: Request, staff: Staff) -> Response:
        stats = await dashboard.compute(self._deps.sessions, days=7)
        await self._deps.content.refresh()
        language = self._deps.settings.default_language
        content = stale_report(
            self._deps.content.bundle.entries[language].values(),
            dt.date.today(),
            self._deps.settings.content_stale_after_days,
        )
        return self._render(request, "home.html", staff, stats=stats, content=content)

    async def export(self, request: Request, staff: Staff) -> Response:
        raw_days = request.query_params.get("days", "30")
        if not raw_days.isdigit() or not 1 <= int(raw_days) <= MAX_EXPORT_DAYS:
            raise HTTPException(
                400, _("days must be a whole number from 1 to {max}.").format(max=MAX_EXPORT_DAYS)
            )
        stats = await dashboard.compute(self._deps.sessions, days=int(raw_days))
        return Response(
            stats.to_csv(),
            media_type="text/csv",
            headers={"Content-Disposition": "attachment; filename=ventanilla-dashboard.csv"},
        )

    async def inbox(self, request: Request, staff: Staff) -> Response:
        return self._render(
            request, "inbox.html", staff, tickets=await self._deps.inbox.open_tickets()
        )

    async def ticket(self, request: Request, staff: Staff) -> Response:
        found = await self._deps.inbox.ticket(request.path_params["reference"])
        if found is None:
            raise HTTPException(404, _("No such ticket."))
        view, lines = found
        return self._render(
            request,
            "ticket.html",
            staff,
            ticket=view,
            lines=lines,
            outcomes=OUTCOMES,
            sent=request.query_params.get("sent"),
            reason=request.query_params.get("reason"),
        )

    async def reply(self, request: Request, staff: Staff) -> Response:
        reference = request.path_params["reference"]
        form = await checked_form(request)
        text = str(form.get("text", "")).strip()[:MAX_REPLY_CHARS]
        found = await self._deps.inbox.ticket(reference)
        if found is None or not text:
            raise HTTPException(400, _("Write a reply for an existing ticket."))
        view, _lines = found
        address = await self._deps.inbox.address(reference)
        if address is None:
            raise HTTPException(409, _("This ticket is closed: the address was deleted."))
        delivery = await self._deps.outbound.send(view.channel, address, [Reply(text)])
        await self._deps.inbox.record_reply(reference, text, delivery.sent)
        await self._ctx.audit.record(
            staff.email, "reply", reference, f"{delivery.mode} {delivery.reason}"
        )
        query = f"sent={delivery.mode}" + (f"&reason={delivery.reason}" if delivery.reason else "")
        return RedirectResponse(f"/admin/inbox/{reference}?{query}", 303)

    async def close(self, request: Request, staff: Staff) -> Response:
        reference = request.path_params["reference"]
        form = await checked_form(request)
        outcome = str(form.get("outcome", ""))
        if outcome not in OUTCOMES:
            raise HTTPException(400, _("Choose an outcome."))
        await self._deps.store.close_handoff(reference, outcome)
        await self._ctx.audit.record(staff.email, "close_ticket", reference, outcome)
        return RedirectResponse("/admin/inbox", 303)
