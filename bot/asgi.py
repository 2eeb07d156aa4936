"""The ASGI application as uvicorn loads it: `uvicorn bot.asgi:create_app --factory`.

Each worker builds its object graph (`bot/composition.py`) during the ASGI
lifespan, so nothing is created at import time and workers share nothing but
the database and the NLU server.
"""

from __future__ import annotations

import gc
import logging
from contextlib import AsyncExitStack

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from bot.settings import Settings, load_settings

log = logging.getLogger(__name__)


class VentanillaApp:
    """Builds the real app on lifespan startup and tears it down on shutdown."""

    def __init__(
        self, settings: Settings, polling: bool = False, shared_nlu: bool = False
    ) -> None:
        self._settings = settings
        self._polling = polling
        self._shared_nlu = shared_nlu
        self._inner: Starlette | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if self._inner is None:
            raise RuntimeError("the app received a request before its startup finished")
        await self._inner(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        from bot.composition import served

        await receive()  # lifespan.startup
        stack = AsyncExitStack()
        try:
            self._inner = await stack.enter_async_context(
                served(self._settings, self._polling, self._shared_nlu)
            )
        except Exception as exc:
            log.exception("start-up failed")
            await stack.aclose()
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        # Everything built so far lives as long as the worker: moved out of the collector's
        # sight, a full collection no longer walks it in the middle of a request.
        gc.collect()
        gc.freeze()
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await stack.aclose()
        await send({"type": "lifespan.shutdown.complete"})


def create_app() -> VentanillaApp:
    return VentanillaApp(load_settings())


def create_worker_app() -> VentanillaApp:
    """One worker of `ventanilla run --workers N`: settings from the same environment as
    its parent, and the NLU server the parent started (or NLU_URL)."""
    return VentanillaApp(load_settings(), shared_nlu=True)
