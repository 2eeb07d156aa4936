"""Server-rendered staff pages: one Jinja environment with gettext bound to the request's locale."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from bot.admin import i18n
from bot.admin.accounts import Staff
from bot.admin.labels import label
from bot.admin.security import csrf_token
from bot.db.content import DbContentStore
from bot.settings import Settings


def _environment() -> jinja2.Environment:
    """Templates with gettext ({% trans %}, _()) bound to the request's locale."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=jinja2.select_autoescape(),
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.filters.update(i18n.FILTERS)
    env.globals.update(
        locale=i18n.current_locale,
        language_names=i18n.LANGUAGE_NAMES,
        role_label=lambda code: label("role", code),
        urgency_label=lambda code: label("urgency", code),
        status_label=lambda code: label("status", code),
        outcome_label=lambda code: label("outcome", code),
    )
    return env


TEMPLATES = Jinja2Templates(env=_environment())


def renderer(settings: Settings, content: DbContentStore) -> Callable[..., Response]:
    """`render(request, template, staff, status=200, **context)` for every page group."""

    def topic_title(key: str) -> str:
        """A content key as staff know it: its title in their language when there is one."""
        locale = i18n.current_locale()
        language = locale if locale in settings.languages else settings.default_language
        if content.has(language, key):
            return content.get(language, key).title or key
        return key

    def render(
        request: Request, template: str, staff: Staff | None, status: int = 200, **context: Any
    ) -> Response:
        if staff is not None and staff.language in i18n.LOCALES:
            i18n.set_locale(staff.language)  # the account's choice beats the session's copy
        return TEMPLATES.TemplateResponse(
            request,
            template,
            {
                "staff": staff,
                "csrf": csrf_token(request),
                "languages": settings.languages,
                "topic_title": topic_title,
                **context,
            },
            status_code=status,
        )

    return render
