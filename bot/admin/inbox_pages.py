"""The handoff inbox (agents) and the dashboard (everyone)."""

from __future__ import annotations

import datetime as dt

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.admin import dashboard
from bot.admin.accounts import Staff
from bot.admin.context import PageContext
from bot.admin.i18n import gettext as _
from bot.admin.security import checked_form, requires
from bot.admin.stale import stale_report
from kernel.types import Reply

OUTCOMES = ("answered", "referred", "emergency_services", "no_reply", "duplicate")
MAX_REPLY_CHARS = 4000
MAX_EXPORT_DAYS = 366  # a year of figures; more would build files of megabytes on request


def inbox_routes(ctx: PageContext) -> list[Route]:
    deps, render, audit = ctx.deps, ctx.render, ctx.audit

    @requires(ctx.accounts, "view")
    async def home(request: Request, staff: Staff) -> Response:
        stats = await dashboard.compute(deps.sessions, days=7)
        await deps.content.refresh()
        language = deps.settings.default_language
        content = stale_report(
            deps.content.bundle.entries[language].values(),
            dt.date.today(),
            deps.settings.content_stale_after_days,
        )
        return render(request, "home.html", staff, stats=stats, content=content)

    @requires(ctx.accounts, "view")
    async def export(request: Request, staff: Staff) -> Response:
        raw_days = request.query_params.get("days", "30")
        if not raw_days.isdigit() or not 1 <= int(raw_days) <= MAX_EXPORT_DAYS:
            raise HTTPException(
                400, _("days must be a whole number from 1 to {max}.").format(max=MAX_EXPORT_DAYS)
            )
        stats = await dashboard.compute(deps.sessions, days=int(raw_days))
        return Response(
            stats.to_csv(),
            media_type="text/csv",
            headers={"Content-Disposition": "attachment; filename=ventanilla-dashboard.csv"},
        )

    @requires(ctx.accounts, "inbox")
    async def inbox(request: Request, staff: Staff) -> Response:
        return render(request, "inbox.html", staff, tickets=await deps.inbox.open_tickets())

    @requires(ctx.accounts, "inbox")
    async def ticket(request: Request, staff: Staff) -> Response:
        found = await deps.inbox.ticket(request.path_params["reference"])
        if found is None:
            raise HTTPException(404, _("No such ticket."))
        view, lines = found
        return render(
            request,
            "ticket.html",
            staff,
            ticket=view,
            lines=lines,
            outcomes=OUTCOMES,
            sent=request.query_params.get("sent"),
            reason=request.query_params.get("reason"),
        )

    @requires(ctx.accounts, "inbox")
    async def reply(request: Request, staff: Staff) -> Response:
        reference = request.path_params["reference"]
        form = await checked_form(request)
        text = str(form.get("text", "")).strip()[:MAX_REPLY_CHARS]
        found = await deps.inbox.ticket(reference)
        if found is None or not text:
            raise HTTPException(400, _("Write a reply for an existing ticket."))
        view, _lines = found
        address = await deps.inbox.address(reference)
        if address is None:
            raise HTTPException(409, _("This ticket is closed: the address was deleted."))
        delivery = await deps.outbound.send(view.channel, address, [Reply(text)])
        await deps.inbox.record_reply(reference, text, delivery.sent)
        await audit.record(staff.email, "reply", reference, f"{delivery.mode} {delivery.reason}")
        query = f"sent={delivery.mode}" + (f"&reason={delivery.reason}" if delivery.reason else "")
        return RedirectResponse(f"/admin/inbox/{reference}?{query}", 303)

    @requires(ctx.accounts, "inbox")
    async def close(request: Request, staff: Staff) -> Response:
        reference = request.path_params["reference"]
        form = await checked_form(request)
        outcome = str(form.get("outcome", ""))
        if outcome not in OUTCOMES:
            raise HTTPException(400, _("Choose an outcome."))
        await deps.store.close_handoff(reference, outcome)
        await audit.record(staff.email, "close_ticket", reference, outcome)
        return RedirectResponse("/admin/inbox", 303)

    return [
        Route("/", home),
        Route("/dashboard.csv", export),
        Route("/inbox", inbox),
        Route("/inbox/{reference}", ticket),
        Route("/inbox/{reference}/reply", reply, methods=["POST"]),
        Route("/inbox/{reference}/close", close, methods=["POST"]),
    ]
