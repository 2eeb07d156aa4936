"""The HTTP app: health check, web chat, webhooks and staff pages in one ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from bot.channels import quick_exit, webchat
from bot.db.web_outbox import WebOutbox
from bot.http_limits import DEFAULT_MAX_BODY, BodyLimit
from bot.ratelimit import RateLimits, handoff_cooldown
from bot.security_headers import SecurityHeaders

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 24 * 60 * 60
# Bodies are refused above these sizes before they are read (the longest prefix wins).
BODY_LIMITS = (
    ("/api/chat", webchat.MAX_BODY_BYTES),
    ("/webhooks/telegram", 1024 * 1024),  # Telegram's updates are far smaller
    ("/webhooks/whatsapp", 256 * 1024),  # Twilio's form posts are far smaller
)


async def purge_daily(runtime: Runtime) -> None:
    """Retention is enforced by the server itself, not by someone remembering a cron job."""
    while True:
        try:
            result = await (runtime.states or runtime.store).purge(runtime.settings.retention_days)
            log.info("retention purge: %d messages deleted", result.messages_deleted)
        except Exception:
            log.exception("retention purge failed; retrying tomorrow")
        await asyncio.sleep(PURGE_EVERY_SECONDS)


class ChannelService(Protocol):
    """A channel that needs routes and a start/stop around the server's life."""

    def routes(self) -> list[Route]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def build_app(
    runtime: Runtime,
    channels: Sequence[ChannelService] = (),
    extra_routes: list[BaseRoute] | None = None,
    purge: bool = True,
    admin: Starlette | None = None,
) -> Starlette:
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    metrics_token = runtime.settings.secrets.metrics_token

    async def metrics(request: Request) -> Response:
        """Prometheus text. Behind a bearer token when METRICS_TOKEN is set; off in production
        without one: the counters show within seconds that someone reported an emergency."""
        if metrics_token:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, f"Bearer {metrics_token}".encode()):
                return PlainTextResponse(
                    "unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"}
                )
        elif runtime.settings.is_production:
            return PlainTextResponse("not found", status_code=404)
        return PlainTextResponse(
            runtime.dispatcher.metrics.render(), media_type="text/plain; version=0.0.4"
        )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(purge_daily(runtime)) if purge else None
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

    settings = runtime.settings
    limits = RateLimits.from_settings(settings.limits, runtime.dispatcher.metrics)
    if runtime.dispatcher.handoff_gate is None:
        runtime.dispatcher.handoff_gate = handoff_cooldown(limits)
    public = urlsplit(settings.public_base_url)
    web_config = webchat.WebChatConfig(
        secure_cookie=settings.is_production,
        cookie_max_age=int(settings.handoff_silence_hours * 3600),
        allowed_origins=(f"{public.scheme}://{public.netloc}",) if public.netloc else (),
    )
    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        *webchat.routes(
            runtime.dispatcher.handle,
            WebOutbox(runtime.database, runtime.protector),
            limits,
            web_config,
        ),
        *quick_exit.routes(
            runtime.content,
            runtime.settings.languages,
            runtime.settings.quick_exit_url,
            cookies=(webchat.COOKIE,),
        ),
        *(route for channel in channels for route in channel.routes()),
        *(extra_routes or []),
    ]
    if admin is not None:
        routes.append(Mount("/admin", app=admin))
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(SecurityHeaders, hsts=settings.is_production),
            Middleware(BodyLimit, default=DEFAULT_MAX_BODY, per_prefix=BODY_LIMITS),
        ],
    )
