"""The staff area, mounted at /admin: server-rendered pages, forms that work without JavaScript."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from bot.admin import i18n
from bot.admin.accounts import Accounts, AuditLog, LoginResult, Staff
from bot.admin.broadcast_pages import broadcast_routes
from bot.admin.context import PageContext
from bot.admin.gate import run_gate
from bot.admin.i18n import gettext as _
from bot.admin.inbox_pages import inbox_routes
from bot.admin.labels import label
from bot.admin.retrain import Retrainer
from bot.admin.security import (
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    Forbidden,
    checked_form,
    csrf_token,
    current_staff,
    requires,
    session_secret,
)
from bot.channels.render import numbered_text
from bot.content import FileContentStore, bundle_from_texts
from bot.db.content import ContentRepository, DbContentStore, dump_entry, unified_diff
from bot.db.inbox import Inbox
from bot.db.models import Message, TrainingExample
from bot.db.store import SqlStore
from bot.outbound import Outbound
from bot.ratelimit import RateLimits
from bot.settings import Settings
from handlers.answers import answer, is_expired
from kernel.normalize import normalize_text
from kernel.types import IntentClassifier


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
UNANSWERED_ROUTES = ("fallback", "unknown_words")
REVIEW_EXTENSION = dt.timedelta(days=182)


@dataclass
class AdminDeps:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    repository: ContentRepository
    content: DbContentStore
    classifier: IntentClassifier
    retrainer: Retrainer | None
    secret: str
    inbox: Inbox
    outbound: Outbound
    store: SqlStore
    limits: RateLimits | None = None  # shared with the web chat; its own when absent


def build_admin(deps: AdminDeps) -> Starlette:
    accounts = Accounts(deps.sessions)
    limits = deps.limits or RateLimits.from_settings(deps.settings.limits)
    audit = AuditLog(deps.sessions)
    settings = deps.settings

    def topic_title(key: str) -> str:
        """A content key as staff know it: its title in their language when there is one."""
        locale = i18n.current_locale()
        language = locale if locale in settings.languages else settings.default_language
        if deps.content.has(language, key):
            return deps.content.get(language, key).title or key
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

    async def login_page(request: Request) -> Response:
        return render(request, "login.html", None, next=request.query_params.get("next", "/admin/"))

    async def login(request: Request) -> Response:
        form = await checked_form(request)
        address = request.client.host if request.client else "unknown"
        throttled = await limits.peek("login_per_ip", address)
        if not throttled.allowed:
            response = render(
                request,
                "login.html",
                None,
                status=429,
                error=_("Too many failed attempts from here. Try again in {seconds} seconds.")
                .format(seconds=throttled.retry_after),
                next="/admin/",
            )
            response.headers["Retry-After"] = str(throttled.retry_after)
            return response
        result, staff = await accounts.login(
            str(form.get("email", "")), str(form.get("password", ""))
        )
        if result is LoginResult.OK and staff is not None:
            request.session.clear()
            request.session["sid"] = await accounts.start_session(staff)
            if staff.language in i18n.LOCALES:
                request.session[i18n.SESSION_KEY] = staff.language
            target = str(form.get("next") or "/admin/")
            return RedirectResponse(target if target.startswith("/admin") else "/admin/", 303)
        await limits.hit("login_per_ip", address)
        # One answer for a wrong password, an unknown account and a locked one: the page
        # must not tell a stranger which addresses have accounts.
        refused = _(
            "Wrong e-mail or password, or the account is locked after too many failed"
            " attempts (then try again in 15 minutes)."
        )
        return render(request, "login.html", None, status=401, error=refused, next="/admin/")

    async def choose_language(request: Request) -> Response:
        """The staff pages' language: kept in the session, and on the account when logged in."""
        form = await checked_form(request)
        language = str(form.get("language", ""))
        if language not in i18n.LOCALES:
            raise HTTPException(400, _("Choose Spanish or English."))
        request.session[i18n.SESSION_KEY] = language
        staff = await current_staff(request, accounts)
        if staff is not None:
            await accounts.set_language(staff.id, language)
        target = str(form.get("next") or "/admin/")
        return RedirectResponse(target if target.startswith("/admin") else "/admin/", 303)

    async def logout(request: Request) -> Response:
        await checked_form(request)
        token = request.session.get("sid")
        if isinstance(token, str):
            await accounts.end_session(token)
        request.session.clear()
        return RedirectResponse("/admin/login", 303)

    @requires(accounts, "view")
    async def content_list(request: Request, staff: Staff) -> Response:
        await deps.content.refresh(force=True)
        bundle = deps.content.bundle
        first = settings.default_language
        rows = [
            {
                "key": key,
                "entries": {lang: bundle.entries[lang].get(key) for lang in settings.languages},
                "expired": is_expired(bundle.entries[first][key]),
            }
            for key in sorted(bundle.entries[first])
        ]
        return render(request, "content_list.html", staff, rows=rows)

    async def _published(key: str, language: str) -> dict[str, Any]:
        version = await deps.repository.published(key, language)
        if version is None:
            raise HTTPException(
                404,
                _("No published %(language)s answer for %(key)s.")
                % {"language": i18n.language_name(language), "key": key},
            )
        return version.data()

    @requires(accounts, "view")
    async def content_edit(request: Request, staff: Staff) -> Response:
        key = request.path_params["key"]
        entries = {lang: await _published(key, lang) for lang in settings.languages}
        return render(request, "content_edit.html", staff, key=key, entries=entries)

    @requires(accounts, "edit")
    async def save_draft(request: Request, staff: Staff) -> Response:
        key, language = request.path_params["key"], request.path_params["lang"]
        form = await checked_form(request)
        data = await _published(key, language)
        data["title"] = str(form.get("title", "")).strip()
        data["text"] = str(form.get("text", "")).replace("\r\n", "\n").strip()
        data["options"] = [o.strip() for o in str(form.get("options", "")).split(",") if o.strip()]
        data["needs_review"] = form.get("needs_review") == "on"
        data["review_notes"] = str(form.get("review_notes", "")).strip()
        for date_field in ("reviewed_on", "expires_on"):
            value = str(form.get(date_field, "")).strip()
            data[date_field] = dt.date.fromisoformat(value) if value else None
        draft = await deps.repository.save_draft(key, language, dump_entry(data), staff.email)
        await audit.record(
            staff.email, "save_draft", f"{language}/{key}", f"version {draft.version}"
        )
        return RedirectResponse(f"/admin/content/{key}/{language}/draft/{draft.id}", 303)

    async def _preview(draft_body: str, key: str, language: str) -> dict[str, Any]:
        published = await deps.repository.published_texts()
        items = [(lang, k, body) for lang, k, body in published if (lang, k) != (language, key)]
        store = FileContentStore(
            bundle_from_texts([*items, (language, key, draft_body)], settings.languages),
            settings.default_language,
        )
        reply = answer(store, language, key)
        return {
            "whatsapp": numbered_text(reply),
            "telegram_text": reply.text,
            "telegram_buttons": [b.label for b in reply.buttons],
        }

    @requires(accounts, "view")
    async def draft_page(request: Request, staff: Staff) -> Response:
        key, language = request.path_params["key"], request.path_params["lang"]
        draft = await deps.repository.get(int(request.path_params["version_id"]))
        if draft is None or (draft.key, draft.language) != (key, language):
            raise HTTPException(404, _("No such draft."))
        current = await deps.repository.published(key, language)
        gate = await run_gate(settings, deps.repository, deps.classifier, draft)
        try:
            preview = await _preview(draft.body, key, language)
        except Exception as exc:
            preview = {"error": str(exc)}
        diff = unified_diff(current.body if current else "", draft.body)
        return render(
            request,
            "draft.html",
            staff,
            key=key,
            language=language,
            draft=draft,
            gate=gate,
            preview=preview,
            diff=diff,
        )

    @requires(accounts, "edit")
    async def publish(request: Request, staff: Staff) -> Response:
        key, language = request.path_params["key"], request.path_params["lang"]
        form = await checked_form(request)
        draft = await deps.repository.get(int(request.path_params["version_id"]))
        if draft is None or draft.status != "draft":
            raise HTTPException(404, _("No such draft."))
        gate = await run_gate(settings, deps.repository, deps.classifier, draft)
        if gate.errors:
            raise HTTPException(400, _("This draft is not valid: ") + "; ".join(gate.errors))
        override = form.get("override") == "on"
        if gate.needs_override and not override:
            raise HTTPException(
                409, _("Test questions fail with this draft: tick the box to publish anyway.")
            )
        published = await deps.repository.publish(draft.id)
        detail = f"version {published.version}"
        if gate.needs_override:
            detail += f"; OVERRIDE of {len(gate.failing)} failing test questions"
        await audit.record(staff.email, "publish", f"{language}/{key}", detail)
        await deps.content.refresh(force=True)
        return RedirectResponse(f"/admin/content/{key}?published={language}", 303)

    @requires(accounts, "view")
    async def history(request: Request, staff: Staff) -> Response:
        key, language = request.path_params["key"], request.path_params["lang"]
        versions = await deps.repository.history(key, language)
        diffs = [
            unified_diff(versions[i + 1].body, v.body) if i + 1 < len(versions) else []
            for i, v in enumerate(versions)
        ]
        return render(
            request,
            "history.html",
            staff,
            key=key,
            language=language,
            rows=list(zip(versions, diffs, strict=True)),
        )

    @requires(accounts, "edit")
    async def revert(request: Request, staff: Staff) -> Response:
        """An old text goes live only through the same checks as a new one: it must belong
        to the answer in the address, be valid today, and pass the test questions."""
        key, language = request.path_params["key"], request.path_params["lang"]
        form = await checked_form(request)
        version_id = int(request.path_params["version_id"])
        old = await deps.repository.get(version_id)
        if old is None or (old.key, old.language) != (key, language):
            raise HTTPException(404, _("This answer has no such version."))
        gate = await run_gate(settings, deps.repository, deps.classifier, old)
        if gate.errors:
            problems = "; ".join(gate.errors)
            raise HTTPException(400, _("This version is not valid today: ") + problems)
        override = form.get("override") == "on"
        if gate.needs_override and not override:
            raise HTTPException(
                409,
                _(
                    "Test questions would fail with this version: save it as a draft to see"
                    " the test results, and publish it from there if it must go out anyway."
                ),
            )
        published = await deps.repository.revert(version_id, staff.email)
        detail = f"to the text of version id {version_id}, now version {published.version}"
        if gate.needs_override:
            detail += f"; OVERRIDE of {len(gate.failing)} failing test questions"
        await audit.record(staff.email, "revert", f"{language}/{key}", detail)
        await deps.content.refresh(force=True)
        return RedirectResponse(f"/admin/content/{key}/{language}/history", 303)

    @requires(accounts, "view")
    async def review(request: Request, staff: Staff) -> Response:
        await deps.content.refresh(force=True)
        bundle = deps.content.bundle
        rows: list[dict[str, Any]] = []
        for language in settings.languages:
            for entry in bundle.entries[language].values():
                reasons = []
                if is_expired(entry):
                    reasons.append(
                        _("expired on %(day)s") % {"day": i18n.format_date(entry.expires_on)}
                    )
                if not entry.reviewed_on:
                    reasons.append(_("never reviewed"))
                if entry.needs_review:
                    reasons.append(_("facts to confirm"))
                if reasons:
                    rows.append({"entry": entry, "reasons": reasons, "expired": is_expired(entry)})
        rows.sort(key=lambda r: (not r["expired"], r["entry"].key))
        return render(request, "review.html", staff, rows=rows)

    @requires(accounts, "edit")
    async def mark_reviewed(request: Request, staff: Staff) -> Response:
        key, language = request.path_params["key"], request.path_params["lang"]
        await checked_form(request)
        data = await _published(key, language)
        today = dt.date.today()
        data["reviewed_on"] = today
        if data.get("expires_on"):
            data["expires_on"] = today + REVIEW_EXTENSION
        draft = await deps.repository.save_draft(key, language, dump_entry(data), staff.email)
        await deps.repository.publish(draft.id)
        await audit.record(staff.email, "mark_reviewed", f"{language}/{key}", today.isoformat())
        await deps.content.refresh(force=True)
        return RedirectResponse("/admin/review", 303)

    @requires(accounts, "view")
    async def tests_page(request: Request, staff: Staff) -> Response:
        questions = await deps.repository.test_questions()
        return render(
            request,
            "tests.html",
            staff,
            questions=questions,
            keys=sorted(deps.content.bundle.entries[settings.default_language]),
        )

    @requires(accounts, "edit")
    async def add_test(request: Request, staff: Staff) -> Response:
        form = await checked_form(request)
        key, language = str(form.get("key", "")), str(form.get("language", ""))
        text = str(form.get("text", "")).strip()
        if not text or language not in settings.languages or not deps.content.has(language, key):
            raise HTTPException(400, _("Choose an answer and a language, and write a question."))
        if await deps.repository.add_test_question(key, language, text, staff.email):
            # The question itself stays out of the log: it may be a person's own words.
            await audit.record(
                staff.email, "add_test_question", f"{language}/{key}", f"{len(text)} characters"
            )
        return RedirectResponse("/admin/tests", 303)

    @requires(accounts, "view")
    async def unanswered(request: Request, staff: Staff) -> Response:
        async with deps.sessions() as session:
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
        # Viewers see how often, not what: people's words are for those who act on them.
        show = staff.can("inbox")
        items = [
            {"text": samples[k] if show else "", "language": k[1], "count": c}
            for k, c in counts.most_common(200)
        ]
        intents = [
            k
            for k in deps.content.bundle.entries[settings.default_language]
            if deps.content.get(settings.default_language, k).kind == "intent"
        ]
        return render(request, "unanswered.html", staff, items=items, intents=sorted(intents))

    @requires(accounts, "edit")
    async def assign(request: Request, staff: Staff) -> Response:
        form = await checked_form(request)
        text, intent = str(form.get("text", "")).strip(), str(form.get("intent", ""))
        language = str(form.get("language", "")) or settings.default_language
        if not text or not deps.content.has(settings.default_language, intent):
            raise HTTPException(400, _("Choose a topic."))
        async with deps.sessions.begin() as session:
            session.add(
                TrainingExample(text=text, intent=intent, language=language, created_by=staff.email)
            )
        # The example is a person's words: the log says what was done, not what they wrote.
        await audit.record(staff.email, "assign_example", intent, f"{len(text)} characters")
        return RedirectResponse("/admin/unanswered?assigned=1", 303)

    @requires(accounts, "view")
    async def retrain_page(request: Request, staff: Staff) -> Response:
        retrainer = deps.retrainer
        jobs = await retrainer.jobs() if retrainer else []
        live = {job_id: p.lines for job_id, p in retrainer.progress.items()} if retrainer else {}
        return render(
            request,
            "retrain.html",
            staff,
            jobs=jobs,
            live=live,
            running=bool(retrainer and retrainer.running),
            available=retrainer is not None,
        )

    @requires(accounts, "edit")
    async def retrain_start(request: Request, staff: Staff) -> Response:
        await checked_form(request)
        if deps.retrainer is None:
            raise HTTPException(
                409, _("Retraining needs the local NLU server (NLU_URL points elsewhere).")
            )
        try:
            job_id = await deps.retrainer.start(staff.email)
        except RuntimeError as exc:
            raise HTTPException(409, str(exc)) from exc
        await audit.record(staff.email, "retrain", f"job {job_id}")
        return RedirectResponse("/admin/retrain", 303)

    @requires(accounts, "view")
    async def audit_page(request: Request, staff: Staff) -> Response:
        events = await audit.recent()
        if not staff.can("inbox"):
            for event in events:
                event.detail = ""  # not persisted: the objects are detached from any session
        return render(request, "audit.html", staff, events=events)

    async def on_forbidden(request: Request, exc: Exception) -> Response:
        staff = await _staff_or_none(request, accounts)
        return render(
            request, "error.html", staff, status=403, title=_("Not allowed"), message=str(exc)
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        staff = await _staff_or_none(request, accounts)
        return render(
            request,
            "error.html",
            staff,
            status=exc.status_code,
            title=_("Cannot do that"),
            message=_("There is no such page.") if exc.detail == "Not Found" else exc.detail,
        )

    edit = "/content/{key}/{lang}"
    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/language", choose_language, methods=["POST"]),
        *inbox_routes(PageContext(deps, accounts, audit, render)),
        *broadcast_routes(PageContext(deps, accounts, audit, render)),
        Route("/content", content_list),
        Route("/content/{key}", content_edit),
        Route(edit, save_draft, methods=["POST"]),
        Route(edit + "/draft/{version_id:int}", draft_page),
        Route(edit + "/draft/{version_id:int}/publish", publish, methods=["POST"]),
        Route(edit + "/history", history),
        Route(edit + "/revert/{version_id:int}", revert, methods=["POST"]),
        Route(edit + "/reviewed", mark_reviewed, methods=["POST"]),
        Route("/review", review),
        Route("/tests", tests_page),
        Route("/tests", add_test, methods=["POST"]),
        Route("/unanswered", unanswered),
        Route("/unanswered", assign, methods=["POST"]),
        Route("/retrain", retrain_page),
        Route("/retrain", retrain_start, methods=["POST"]),
        Route("/audit", audit_page),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=session_secret(deps.secret),
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            same_site="strict",
            https_only=settings.is_production,
        ),
        Middleware(i18n.LocaleMiddleware),  # inside the session: reads the chosen language
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={Forbidden: on_forbidden, HTTPException: on_http},
    )


async def _staff_or_none(request: Request, accounts: Accounts) -> Staff | None:
    try:
        return await current_staff(request, accounts)
    except Exception:
        return None
