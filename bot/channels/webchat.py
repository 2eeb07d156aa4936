"""Web chat: a small page at `/` and a JSON endpoint, so staff can try the bot in a browser."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot.core import EngineResult, IncomingMessage
from bot.db.web_outbox import CHANNEL, WebOutbox

PAGE = Path(__file__).with_name("webchat.html")
MAX_BODY_BYTES = 64 * 1024


def _user_id(value: object) -> str:
    user_id = str(value or "")
    if not user_id or len(user_id) > 64:
        raise ValueError("user_id is required (at most 64 characters)")
    return user_id


def to_incoming(body: dict[str, object]) -> IncomingMessage:
    user_id = _user_id(body.get("user_id"))
    text = body.get("text")
    payload = body.get("payload")
    message_id = body.get("message_id")
    return IncomingMessage(
        channel=CHANNEL,
        user_id=user_id,
        text=text if isinstance(text, str) else "",
        payload=payload if isinstance(payload, str) else None,
        message_id=f"{user_id}:{message_id}" if isinstance(message_id, str | int) else None,
    )


def routes(
    handle: Callable[[IncomingMessage], Awaitable[EngineResult]], outbox: WebOutbox
) -> list[Route]:
    page = PAGE.read_text(encoding="utf-8")

    async def index(_: Request) -> Response:
        return HTMLResponse(page)

    async def chat(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            return JSONResponse({"error": "message too large"}, status_code=413)
        try:
            body = json.loads(raw.decode("utf-8", "replace") or "{}")
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            message = to_incoming(body)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        result = await handle(message)
        return JSONResponse(result.as_dict())

    async def updates(request: Request) -> Response:
        """Replies staff sent from the inbox since the page last asked."""
        try:
            user_id = _user_id(request.query_params.get("user_id"))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        texts = await outbox.take(user_id)
        return JSONResponse({"replies": [{"text": t, "buttons": []} for t in texts]})

    return [
        Route("/", index),
        Route("/api/chat", chat, methods=["POST"]),
        Route("/api/chat/updates", updates),
    ]
