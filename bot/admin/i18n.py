"""Staff pages in Spanish and English: gettext catalogs (Babel), the locale of each request,
and dates and numbers written the way that locale writes them.

The catalogs live in bot/admin/locale (messages.pot extracted by `make translations`, the
.po files edited by people, the .mo files compiled from them and committed; a test checks
that the two agree and that no Spanish string is missing). English is the source language,
so the English catalog is the identity. Spanish is the default: the staff of the windows
work in Spanish.

Which language a request gets, in order: the staff member's stored choice (copied into the
session at login and when they change it), else the browser's Accept-Language, else Spanish.
The current locale is a context variable so that both templates and Python messages (errors
raised deep in a handler) use it without threading it through every call.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from babel.support import NullTranslations, Translations
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.accept_language import negotiate as accept_language_negotiate
from kernel.translatable import Message

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
LOCALES = ("es", "en")
DEFAULT_LOCALE = "es"
LANGUAGE_NAMES = {"es": "Español", "en": "English"}  # each in its own language
SESSION_KEY = "lang"
# Times are stored in UTC; staff read them in El Salvador's time.
STAFF_ZONE = ZoneInfo("America/El_Salvador")

_current: contextvars.ContextVar[str] = contextvars.ContextVar(
    "staff_locale", default=DEFAULT_LOCALE
)


def _catalog(locale: str) -> NullTranslations:
    """The compiled catalog for a locale (English, the source language, needs none)."""
    if locale == "en":
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [locale], DOMAIN)


# The committed .mo files: constants of the code, read with it.
CATALOGS: dict[str, NullTranslations] = {locale: _catalog(locale) for locale in LOCALES}


def translations(locale: str) -> NullTranslations:
    return CATALOGS.get(locale) or NullTranslations()  # unknown: the source language


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    """Switch the rest of this request (this context) to a locale."""
    _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


@contextmanager
def using(locale: str) -> Iterator[None]:
    token = _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(current_locale()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ungettext(singular, plural, n)


_ = gettext


def translate(text: str) -> str:
    """Text made in another layer (`kernel.translatable.Message`) in the current locale,
    its numbers written the locale's way; any other text is shown as it is."""
    if not isinstance(text, Message):
        return text
    fields = {
        name: format_number(value)
        if isinstance(value, int | float) and not isinstance(value, bool)
        else str(value)
        for name, value in text.fields.items()
    }
    try:
        return gettext(text.template).format(**fields)
    except (KeyError, IndexError, ValueError):  # a translation that names other fields
        return str(text)


def negotiate(accept_language: str) -> str:
    """The best of our locales for a browser, Spanish when nothing fits."""
    return accept_language_negotiate(accept_language, LOCALES, DEFAULT_LOCALE)


def request_locale(session: dict[str, Any], accept_language: str) -> str:
    chosen = session.get(SESSION_KEY)
    if isinstance(chosen, str) and chosen in LOCALES:
        return chosen
    return negotiate(accept_language)


class LocaleMiddleware:
    """Sets the locale for each staff request; runs inside the session middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = ""
        for name, value in scope.get("headers", []):
            if name == b"accept-language":
                accept = value.decode("latin-1")
                break
        with using(request_locale(scope.get("session") or {}, accept)):
            await self.app(scope, receive, send)


# Jinja filters: dates and numbers in the current locale.


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def format_datetime(value: dt.datetime | str | None, format: str = "short") -> str:
    """A moment in El Salvador's time, written the locale's way (ISO strings accepted)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    local = _as_utc(value).astimezone(STAFF_ZONE)
    return dates.format_datetime(local, format, locale=current_locale())


def format_date(value: dt.date | dt.datetime | str | None, format: str = "medium") -> str:
    """A date in the locale's words; content files hold ISO strings, shown as dates too."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, dt.datetime):
        value = _as_utc(value).astimezone(STAFF_ZONE).date()
    return dates.format_date(value, format, locale=current_locale())


def format_day(value: dt.date) -> str:
    """A short day label for charts: 2 dic. / Dec 2."""
    return dates.format_skeleton("MMMd", value, locale=current_locale())


def format_number(value: float, digits: int = 0) -> str:
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return numbers.format_decimal(value, pattern, locale=current_locale())


def format_percent(value: float) -> str:
    return numbers.format_percent(value, "#,##0.0 %", locale=current_locale())


def language_name(code: str) -> str:
    """A content language ("es", "en") named in the page's language."""
    name = Locale.parse(code).get_display_name(current_locale())
    return name or code


FILTERS = {
    "datetime": format_datetime,
    "date": format_date,
    "day": format_day,
    "number": format_number,
    "percent": format_percent,
    "language_name": language_name,
}
