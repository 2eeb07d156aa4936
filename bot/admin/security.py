"""Sessions, CSRF and roles for the staff pages."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.admin.accounts import Accounts, Staff
from bot.admin.i18n import gettext as _
from bot.admin.labels import label

SESSION_COOKIE = "ventanilla_staff"
SESSION_MAX_AGE = 8 * 60 * 60

Handler = Callable[[Request], Awaitable[Response]]


class Forbidden(Exception):
    """Raised for a logged-in user without the permission; rendered as 403."""


def session_secret(app_secret: str) -> str:
    return hashlib.sha256(b"ventanilla-admin-session\x00" + app_secret.encode()).hexdigest()


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def checked_form(request: Request) -> dict[str, Any]:
    """The posted form, only if it carries this session's CSRF token."""
    form = await request.form()
    given = str(form.get("csrf", ""))
    expected = str(request.session.get("csrf", ""))
    if not expected or not hmac.compare_digest(given, expected):
        raise Forbidden(_("The form has expired or did not come from this site: reload the page."))
    return {
        key: form.getlist(key) if len(form.getlist(key)) > 1 else value
        for key, value in form.items()
    }


async def current_staff(request: Request, accounts: Accounts) -> Staff | None:
    """The signed cookie names a session; only a session still in the database counts."""
    token = request.session.get("sid")
    if not isinstance(token, str) or not token:
        return None
    return await accounts.session_staff(token)


def requires(
    accounts: Accounts, permission: str
) -> Callable[[Callable[[Request, Staff], Awaitable[Response]]], Handler]:
    def decorate(handler: Callable[[Request, Staff], Awaitable[Response]]) -> Handler:
        async def wrapped(request: Request) -> Response:
            staff = await current_staff(request, accounts)
            if staff is None:
                return RedirectResponse(f"/admin/login?next={request.url.path}", status_code=303)
            if not staff.can(permission):
                role = label("role", staff.role.value)
                raise Forbidden(_("Your role (%(role)s) cannot do this.") % {"role": role})
            return await handler(request, staff)

        return wrapped

    return decorate
