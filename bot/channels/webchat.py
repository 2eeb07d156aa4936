"""Web chat: a small page at `/` and a JSON endpoint, with the identity issued by the server.

The visitor's identity is a random token in an HttpOnly, SameSite=Strict cookie
set by the server; anything the page sends as a user id is ignored, so nobody
can read, answer or erase someone else's conversation by guessing an id. The
cookie is issued with the page when it is opened directly, or with the page's
first message: a link from another site does not carry a Strict cookie, and
issuing one then would replace the visitor's identity.

Abuse limits (per address, per identity, new identities per address) stand in
front of the engine, and only same-origin `application/json` is accepted, so
another site cannot make its visitors post here.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import jinja2
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot.accept_language import negotiate
from bot.http_limits import BodyTooLarge, clean_text, loads_limited
from bot.ratelimit import RateLimits, Verdict
from handlers.answers import answer
from kernel.types import ContentStore, EngineResult, IncomingMessage, Reply

CHANNEL = "web"


class PendingReplies(Protocol):
    """Staff replies waiting for the page to fetch them (kept in bot/db/web_outbox.py)."""

    async def pending(self, user_id: str) -> list[tuple[int, str]]: ...

    async def acknowledge(self, user_id: str, up_to: int) -> int: ...


PAGE = Path(__file__).with_name("webchat.html")
SCRIPT = Path(__file__).with_name("webchat.js")
MAX_BODY_BYTES = 64 * 1024
COOKIE = "ventanilla_web"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True)
class WebChatConfig:
    secure_cookie: bool = False  # production: the cookie travels over HTTPS only
    cookie_max_age: int = 24 * 3600
    allowed_origins: tuple[str, ...] = ()  # besides the page's own (e.g. PUBLIC_BASE_URL)
    languages: tuple[str, ...] = ("es", "en")  # the page greets in the browser's, if one of these
    default_language: str = "es"


GREETING_KEY = "greet"  # the page opens with this answer and its topics
PROMPT_KEY = "web_chat_prompt"  # text: the message box's placeholder; title: "send"
_PAGES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(PAGE.parent), autoescape=True, keep_trailing_newline=True
)


@dataclass(frozen=True)
class Welcome:
    """What the page shows before anyone writes, in one language; all of it from content."""

    lang: str
    greeting: Reply | None
    prompt: str
    send: str


def welcome(content: ContentStore | None, language: str) -> Welcome:
    """The greeting with its topic buttons, the box's placeholder and the send label."""
    if content is None:
        return Welcome(language, None, "", "")
    greeting = (
        answer(content, language, GREETING_KEY) if content.has(language, GREETING_KEY) else None
    )
    if content.has(language, PROMPT_KEY):
        prompt = content.get(language, PROMPT_KEY)
        return Welcome(language, greeting, prompt.text.strip(), prompt.title)
    return Welcome(language, greeting, "", "")


def render_page(page: Welcome) -> str:
    return _PAGES.get_template(PAGE.name).render(
        lang=page.lang, greeting=page.greeting, prompt=page.prompt, send=page.send
    )


def to_incoming(identity: str, body: dict[str, object]) -> IncomingMessage:
    """The message as the engine sees it; a `user_id` in the body is ignored."""
    text = body.get("text")
    payload = body.get("payload")
    message_id = body.get("message_id")
    message_id = str(message_id) if isinstance(message_id, str | int) else None
    language = body.get("language")  # the page's language; the engine accepts only its own
    if not isinstance(text, str | None) or not isinstance(payload, str | None):
        raise ValueError("text and payload must be strings")
    return IncomingMessage(
        channel=CHANNEL,
        user_id=identity,
        text=clean_text(text or ""),
        payload=clean_text(payload)[:200] if payload else None,
        message_id=f"{identity}:{message_id}"
        if message_id and _MESSAGE_ID.match(message_id)
        else None,
        language_hint=language if isinstance(language, str) and len(language) <= 8 else None,
    )


def identity_of(request: Request) -> str | None:
    value = request.cookies.get(COOKIE, "")
    return value if _TOKEN.match(value) else None


def client_address(request: Request) -> str:
    """The peer address; behind a proxy uvicorn puts the forwarded one here when the proxy
    is trusted (`FORWARDED_ALLOW_IPS`)."""
    return request.client.host if request.client else "unknown"


def same_origin(request: Request, allowed: tuple[str, ...]) -> bool:
    """A browser says where a request comes from; another site's page is refused.
    Clients that are not browsers send no Origin and cannot be made to act for a visitor."""
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin in allowed:
        return True
    parts = urlsplit(origin)
    return bool(parts.netloc) and parts.netloc == request.headers.get("host", "")


def is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json"


def too_many(verdict: Verdict) -> Response:
    return JSONResponse(
        {"error": "too many messages; please wait a moment"},
        status_code=429,
        headers={"Retry-After": str(verdict.retry_after)},
    )


async def read_json(request: Request) -> dict[str, object]:
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > MAX_BODY_BYTES:
            raise BodyTooLarge(MAX_BODY_BYTES)
    body = loads_limited(bytes(raw) or b"{}")
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


class WebChat:
    """The page and the JSON endpoints; every state-changing request passes `refused` first,
    and every message passes the abuse limits before the engine sees it."""

    def __init__(
        self,
        handle: Callable[[IncomingMessage], Awaitable[EngineResult]],
        outbox: PendingReplies,
        limits: RateLimits,
        config: WebChatConfig,
        content: ContentStore | None = None,
    ) -> None:
        self._handle = handle
        self._outbox = outbox
        self._limits = limits
        self._config = config
        self._content = content  # the greeting, the box's placeholder and the send label

    def routes(self) -> list[Route]:
        return [
            Route("/", self.index),
            Route("/static/webchat.js", self.script),
            Route("/api/chat", self.chat, methods=["POST"]),
            Route("/api/chat/updates", self.updates),
            Route("/api/chat/updates/ack", self.acknowledge, methods=["POST"]),
        ]

    def _set_identity(self, response: Response, identity: str) -> None:
        response.set_cookie(
            COOKIE,
            identity,
            max_age=self._config.cookie_max_age,
            httponly=True,
            samesite="strict",
            secure=self._config.secure_cookie,
            path="/",  # the staff pages read it too: a broadcast test goes to one's own chat
        )

    def _refused(self, request: Request) -> Response | None:
        """The checks every state-changing web chat request passes first."""
        if not is_json(request):
            return JSONResponse({"error": "send application/json"}, status_code=415)
        if not same_origin(request, self._config.allowed_origins):
            return JSONResponse({"error": "cross-origin requests are refused"}, status_code=403)
        return None

    async def index(self, request: Request) -> Response:
        """The page, greeting in the browser's language (from content, read at each visit so
        a published change shows at once). A first visit typed or bookmarked gets its
        identity here; a link from another site does not carry the Strict cookie, so no
        identity is issued then (it would replace the visitor's): the page's first message
        gets one if needed. Nothing is stored for a visit."""
        if self._content is not None:
            await self._content.refresh()
        language = negotiate(
            request.headers.get("accept-language", ""),
            self._config.languages,
            self._config.default_language,
        )
        response = HTMLResponse(
            render_page(welcome(self._content, language)), headers={"Vary": "Accept-Language"}
        )
        if identity_of(request) is None and request.headers.get("sec-fetch-site") in (
            None,
            "none",
            "same-origin",
        ):
            verdict = await self._limits.hit("web_new_identity_per_ip", client_address(request))
            if verdict.allowed:
                self._set_identity(response, secrets.token_urlsafe(32))
        return response

    async def script(self, _: Request) -> Response:
        return FileResponse(SCRIPT, media_type="text/javascript; charset=utf-8")

    async def _identity(self, request: Request) -> tuple[str, bool] | Response:
        """The visitor's identity and whether it is new, or the 429 that refuses the
        message: the per-address and per-identity limits apply to every message."""
        address = client_address(request)
        identity = identity_of(request)
        issued = identity is None
        if identity is None:
            verdict = await self._limits.hit("web_new_identity_per_ip", address)
            if not verdict.allowed:
                return too_many(verdict)
            identity = secrets.token_urlsafe(32)
        for name, key in (("web_per_ip", address), ("web_per_identity", identity)):
            verdict = await self._limits.hit(name, key)
            if not verdict.allowed:
                return too_many(verdict)
        return identity, issued

    async def chat(self, request: Request) -> Response:
        problem = self._refused(request)
        if problem is not None:
            return problem
        checked = await self._identity(request)
        if isinstance(checked, Response):
            return checked
        identity, issued = checked
        try:
            message = to_incoming(identity, await read_json(request))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        result = await self._handle(message)
        response = JSONResponse(result.as_dict())
        if issued:
            self._set_identity(response, identity)
        return response

    async def updates(self, request: Request) -> Response:
        """Replies staff sent from the inbox that the page has not acknowledged yet."""
        identity = identity_of(request)
        if identity is None:
            return JSONResponse({"replies": []})
        verdict = await self._limits.hit("web_updates_per_identity", identity)
        if not verdict.allowed:
            return too_many(verdict)
        waiting = await self._outbox.pending(identity)
        return JSONResponse({"replies": [{"id": i, "text": t, "buttons": []} for i, t in waiting]})

    async def acknowledge(self, request: Request) -> Response:
        """The page has shown replies up to `up_to`; only then do they leave the outbox."""
        problem = self._refused(request)
        if problem is not None:
            return problem
        identity = identity_of(request)
        if identity is None:
            return JSONResponse({"error": "no web chat identity"}, status_code=400)
        try:
            up_to = (await read_json(request)).get("up_to")
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if not isinstance(up_to, int) or isinstance(up_to, bool):
            return JSONResponse({"error": "up_to must be a reply id"}, status_code=400)
        return JSONResponse({"removed": await self._outbox.acknowledge(identity, up_to)})


def routes(
    handle: Callable[[IncomingMessage], Awaitable[EngineResult]],
    outbox: PendingReplies,
    limits: RateLimits | None = None,
    config: WebChatConfig | None = None,
    content: ContentStore | None = None,
) -> list[Route]:
    return WebChat(
        handle, outbox, limits or RateLimits(), config or WebChatConfig(), content
    ).routes()
