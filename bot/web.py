"""The HTTP app: health check, web chat, webhooks and staff pages in one ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from bot.channels import quick_exit, webchat
from bot.db.web_outbox import WebOutbox

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 24 * 60 * 60


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

    async def metrics(_: Request) -> Response:
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

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        *webchat.routes(runtime.dispatcher.handle, WebOutbox(runtime.database, runtime.protector)),
        *quick_exit.routes(
            runtime.content, runtime.settings.languages, runtime.settings.quick_exit_url
        ),
        *(route for channel in channels for route in channel.routes()),
        *(extra_routes or []),
    ]
    if admin is not None:
        routes.append(Mount("/admin", app=admin))
    return Starlette(routes=routes, lifespan=lifespan)
