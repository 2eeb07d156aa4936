"""Request size caps applied before a body is read, and JSON that cannot blow the stack.

A body is refused on its declared `Content-Length`, and a body without one
(chunked) is counted as it arrives and cut off at the cap: nothing is buffered
beyond the limit, so a 500 MB upload costs the server nothing but a 413.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY = 256 * 1024
MAX_JSON_DEPTH = 32


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body too large (at most {limit} bytes)")


class BodyLimit:
    """ASGI middleware: every route gets a cap; longer path prefixes may set their own."""

    def __init__(
        self,
        app: ASGIApp,
        default: int = DEFAULT_MAX_BODY,
        per_prefix: Sequence[tuple[str, int]] = (),
    ) -> None:
        self.app = app
        self.default = default
        self.per_prefix = sorted(per_prefix, key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.per_prefix:
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(str(scope.get("path", "")))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return
        received = 0

        async def capped() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, capped, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = f"request body too large (at most {limit} bytes)".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of decoded JSON, counted only as far as `limit` + 1."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def loads_limited(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads that answers ValueError (never RecursionError) for hostile nesting."""
    try:
        value = json.loads(raw)
    except RecursionError as exc:
        raise ValueError("the JSON is nested too deeply") from exc
    except UnicodeDecodeError as exc:
        raise ValueError("the body is not UTF-8") from exc
    if depth(value, max_depth) > max_depth:
        raise ValueError("the JSON is nested too deeply")
    return value


def clean_text(text: str) -> str:
    """Unpaired surrogates (valid in JSON, invalid in UTF-8) become U+FFFD, so no send,
    log line or write can fail on them later."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    return text
