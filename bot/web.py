"""The HTTP app: health check, web chat, webhooks and staff pages in one ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from bot.channels import quick_exit, webchat
from bot.db.web_outbox import WebOutbox
from bot.dispatcher import Dispatcher
from bot.http_limits import DEFAULT_MAX_BODY, BodyLimit
from bot.privacy import Protector
from bot.ratelimit import RateLimits
from bot.security_headers import SecurityHeaders
from bot.settings import Settings
from kernel.types import ContentStore

log = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 24 * 60 * 60
# Bodies are refused above these sizes before they are read (the longest prefix wins).
BODY_LIMITS = (
    ("/api/chat", webchat.MAX_BODY_BYTES),
    ("/webhooks/telegram", 1024 * 1024),  # Telegram's updates are far smaller
    ("/webhooks/whatsapp", 256 * 1024),  # Twilio's form posts are far smaller
)


class Retention(Protocol):
    async def purge(self, retention_days: int) -> Any: ...


@dataclass(frozen=True)
class WebDeps:
    """What the HTTP app serves, built by the composition root (or a test)."""

    settings: Settings
    dispatcher: Dispatcher
    store: Retention  # message texts past `retention_days` are purged through it
    content: ContentStore
    database: AsyncEngine
    protector: Protector
    limits: RateLimits  # shared with the staff pages and the dispatcher's ticket limit


async def purge_daily(deps: WebDeps) -> None:
    """Retention is enforced by the server itself, not by someone remembering a cron job."""
    while True:
        try:
            result = await deps.store.purge(deps.settings.retention_days)
            log.info("retention purge: %d messages deleted", result.messages_deleted)
        except Exception:
            log.exception("retention purge failed; retrying tomorrow")
        await asyncio.sleep(PURGE_EVERY_SECONDS)


class ChannelService(Protocol):
    """A channel that needs routes and a start/stop around the server's life."""

    def routes(self) -> list[Route]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def _metrics_route(deps: WebDeps) -> Route:
    token = deps.settings.secrets.metrics_token
    production = deps.settings.is_production

    async def metrics(request: Request) -> Response:
        """Prometheus text. Behind a bearer token when METRICS_TOKEN is set; off in production
        without one: the counters show within seconds that someone reported an emergency."""
        if token:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, f"Bearer {token}".encode()):
                return PlainTextResponse(
                    "unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"}
                )
        elif production:
            return PlainTextResponse("not found", status_code=404)
        return PlainTextResponse(
            deps.dispatcher.metrics.render(), media_type="text/plain; version=0.0.4"
        )

    return Route("/metrics", metrics)


async def _healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _lifespan(
    deps: WebDeps, channels: Sequence[ChannelService], purge: bool
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(purge_daily(deps)) if purge else None
        started: list[ChannelService] = []
        try:
            for channel in channels:
                await channel.start()
                started.append(channel)
            yield
        finally:
            for channel in reversed(started):
                await channel.stop()
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan


def build_app(
    deps: WebDeps,
    channels: Sequence[ChannelService] = (),
    extra_routes: list[BaseRoute] | None = None,
    purge: bool = True,
    admin: Starlette | None = None,
) -> Starlette:
    settings = deps.settings
    public = urlsplit(settings.public_base_url)
    web_config = webchat.WebChatConfig(
        secure_cookie=settings.is_production,
        cookie_max_age=int(settings.handoff_silence_hours * 3600),
        allowed_origins=(f"{public.scheme}://{public.netloc}",) if public.netloc else (),
        languages=tuple(settings.languages),
        default_language=settings.default_language,
    )
    routes: list[BaseRoute] = [
        Route("/healthz", _healthz),
        _metrics_route(deps),
        *webchat.routes(
            deps.dispatcher.handle,
            WebOutbox(deps.database, deps.protector),
            deps.limits,
            web_config,
            deps.content,
        ),
        *quick_exit.routes(
            deps.content, settings.languages, settings.quick_exit_url, cookies=(webchat.COOKIE,)
        ),
        *(route for channel in channels for route in channel.routes()),
        *(extra_routes or []),
    ]
    if admin is not None:
        routes.append(Mount("/admin", app=admin))
    return Starlette(
        routes=routes,
        lifespan=_lifespan(deps, channels, purge),
        middleware=[
            Middleware(SecurityHeaders, hsts=settings.is_production),
            Middleware(BodyLimit, default=DEFAULT_MAX_BODY, per_prefix=BODY_LIMITS),
        ],
    )
