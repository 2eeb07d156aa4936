"""The staff area, mounted at /admin: server-rendered pages, forms that work without JavaScript.

This module only assembles it: each group of pages lives in its own module (content,
review, training, inbox and dashboard, broadcasts, staff accounts) and receives one
`PageContext`; everything from outside arrives as `AdminDeps`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.admin import i18n
from bot.admin.accounts import Accounts, AuditLog, Staff
from bot.admin.broadcast_pages import BroadcastPages
from bot.admin.content_pages import ContentPages
from bot.admin.context import AdminDeps, PageContext
from bot.admin.i18n import gettext as _
from bot.admin.inbox_pages import InboxPages
from bot.admin.rendering import renderer
from bot.admin.review_pages import ReviewPages
from bot.admin.security import (
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    Forbidden,
    current_staff,
    session_secret,
)
from bot.admin.staff_pages import StaffPages
from bot.admin.training_pages import TrainingPages
from bot.ratelimit import RateLimits

ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


def build_admin(deps: AdminDeps) -> Starlette:
    accounts = Accounts(deps.sessions)
    ctx = PageContext(
        deps=deps,
        accounts=accounts,
        audit=AuditLog(deps.sessions),
        limits=deps.limits or RateLimits.from_settings(deps.settings.limits),
        render=renderer(deps.settings, deps.content),
    )
    routes: list[Route] = []
    for pages in (
        StaffPages(ctx),
        InboxPages(ctx),
        BroadcastPages(ctx),
        ContentPages(ctx),
        ReviewPages(ctx),
        TrainingPages(ctx),
    ):
        routes += pages.routes()
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=session_secret(deps.secret),
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            same_site="strict",
            https_only=deps.settings.is_production,
        ),
        Middleware(i18n.LocaleMiddleware),  # inside the session: reads the chosen language
    ]
    return Starlette(routes=routes, middleware=middleware, exception_handlers=_errors(ctx))


def _errors(ctx: PageContext) -> dict[type[Exception], ErrorHandler]:
    """Refusals and missing pages as staff pages in their language, not bare text."""

    async def on_forbidden(request: Request, exc: Exception) -> Response:
        staff = await _staff_or_none(request, ctx.accounts)
        return ctx.render(
            request, "error.html", staff, status=403, title=_("Not allowed"), message=str(exc)
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        staff = await _staff_or_none(request, ctx.accounts)
        return ctx.render(
            request,
            "error.html",
            staff,
            status=exc.status_code,
            title=_("Cannot do that"),
            message=_("There is no such page.") if exc.detail == "Not Found" else exc.detail,
        )

    return {Forbidden: on_forbidden, HTTPException: on_http}


async def _staff_or_none(request: Request, accounts: Accounts) -> Staff | None:
    try:
        return await current_staff(request, accounts)
    except Exception:
        return None
