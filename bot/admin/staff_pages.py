"""Staff sign-in and out, the pages' language, and the audit log of what staff did."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.admin import i18n
from bot.admin.accounts import LoginResult, Staff
from bot.admin.context import PageContext, PageGroup
from bot.admin.i18n import gettext as _
from bot.admin.security import checked_form, current_staff


def _inside_admin(target: str) -> str:
    """Only addresses of the staff pages: a login link must not send staff elsewhere."""
    return target if target.startswith("/admin") else "/admin/"


class StaffPages(PageGroup):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__(ctx)
        self._accounts = ctx.accounts

    def routes(self) -> list[Route]:
        return [
            Route("/login", self.login_page, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/language", self.choose_language, methods=["POST"]),
            Route("/audit", self._ctx.allow("view", self.audit_page)),
        ]

    async def login_page(self, request: Request) -> Response:
        next_page = request.query_params.get("next", "/admin/")
        return self._render(request, "login.html", None, next=next_page)

    async def login(self, request: Request) -> Response:
        form = await checked_form(request)
        address = request.client.host if request.client else "unknown"
        throttled = await self._ctx.limits.peek("login_per_ip", address)
        if not throttled.allowed:
            response = self._render(
                request,
                "login.html",
                None,
                status=429,
                error=_(
                    "Too many failed attempts from here. Try again in {seconds} seconds."
                ).format(seconds=throttled.retry_after),
                next="/admin/",
            )
            response.headers["Retry-After"] = str(throttled.retry_after)
            return response
        result, staff = await self._accounts.login(
            str(form.get("email", "")), str(form.get("password", ""))
        )
        if result is LoginResult.OK and staff is not None:
            request.session.clear()
            request.session["sid"] = await self._accounts.start_session(staff)
            if staff.language in i18n.LOCALES:
                request.session[i18n.SESSION_KEY] = staff.language
            return RedirectResponse(_inside_admin(str(form.get("next") or "/admin/")), 303)
        await self._ctx.limits.hit("login_per_ip", address)
        # One answer for a wrong password, an unknown account and a locked one: the page
        # must not tell a stranger which addresses have accounts.
        refused = _(
            "Wrong e-mail or password, or the account is locked after too many failed"
            " attempts (then try again in 15 minutes)."
        )
        return self._render(request, "login.html", None, status=401, error=refused, next="/admin/")

    async def choose_language(self, request: Request) -> Response:
        """The staff pages' language: kept in the session, and on the account when logged in."""
        form = await checked_form(request)
        language = str(form.get("language", ""))
        if language not in i18n.LOCALES:
            raise HTTPException(400, _("Choose Spanish or English."))
        request.session[i18n.SESSION_KEY] = language
        staff = await current_staff(request, self._accounts)
        if staff is not None:
            await self._accounts.set_language(staff.id, language)
        return RedirectResponse(_inside_admin(str(form.get("next") or "/admin/")), 303)

    async def logout(self, request: Request) -> Response:
        await checked_form(request)
        token = request.session.get("sid")
        if isinstance(token, str):
            await self._accounts.end_session(token)
        request.session.clear()
        return RedirectResponse("/admin/login", 303)

    async def audit_page(self, request: Request, staff: Staff) -> Response:
        events = await self._ctx.audit.recent()
        if not staff.can("inbox"):
            for event in events:
                event.detail = ""  # not persisted: the objects are detached from any session
        return self._render(request, "audit.html", staff, events=events)
