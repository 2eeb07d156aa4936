"""A stand-in for the Telegram Bot API: records calls, answers with valid Bot API JSON.

Tests wait on what it recorded (`wait_for`, `wait_sent`, and their awaitable twins
`until`, `until_sent`) instead of sleeping: the app answers in the background.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Ventanilla", "username": "ventanilla_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class FakeBotAPI:
    token: str
    calls: list[Call] = field(default_factory=list)
    rate_limit_next: int = 0  # answer this many sendMessage calls with 429
    retry_after: int = 1
    fail_next: int = 0  # answer this many sendMessage calls with 502 Bad Gateway
    updates: list[dict[str, Any]] = field(default_factory=list)  # served by getUpdates
    blocked: set[str] = field(default_factory=set)  # chat ids that blocked the bot (403)
    hold: bool = False  # park sendMessage calls unprocessed until released (crash tests)
    held: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Condition = field(default_factory=threading.Condition)

    def app(self) -> Starlette:
        async def endpoint(request: Request) -> JSONResponse:
            if request.path_params["token"] != self.token:
                return JSONResponse(
                    {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
                )
            method = request.path_params["method"]
            params = await self._params(request)
            if method == "sendMessage" and self.hold:
                # Parked, then dropped unprocessed: what a platform never received.
                with self._lock:
                    self.held += 1
                while self.hold:
                    await asyncio.sleep(0.01)
                return JSONResponse(
                    {"ok": False, "error_code": 502, "description": "Bad Gateway"}, 502
                )
            if method == "sendMessage" and str(params.get("chat_id")) in self.blocked:
                return JSONResponse(
                    {
                        "ok": False,
                        "error_code": 403,
                        "description": "Forbidden: bot was blocked by the user",
                    },
                    403,
                )
            with self._lock:
                self.calls.append(Call(method, params, time.monotonic()))
                self._lock.notify_all()
                if method == "sendMessage" and self.fail_next > 0:
                    self.fail_next -= 1
                    return JSONResponse(
                        {"ok": False, "error_code": 502, "description": "Bad Gateway"}, 502
                    )
                if method == "sendMessage" and self.rate_limit_next > 0:
                    self.rate_limit_next -= 1
                    return JSONResponse(
                        {
                            "ok": False,
                            "error_code": 429,
                            "description": f"Too Many Requests: retry after {self.retry_after}",
                            "parameters": {"retry_after": self.retry_after},
                        },
                        429,
                    )
            return JSONResponse({"ok": True, "result": self._result(method, params)})

        return Starlette(routes=[Route("/bot{token}/{method}", endpoint, methods=["POST", "GET"])])

    async def _params(self, request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            return dict(await request.json())
        form = await request.form()
        params: dict[str, Any] = {}
        for key, value in form.items():
            try:
                params[key] = json.loads(str(value))
            except ValueError:
                params[key] = str(value)
        return params

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                **BOT_USER,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            with self._lock:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                return list(self.updates)
        if method == "sendMessage":
            return {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
        return True

    def sent(self, chat_id: int | str | None = None) -> list[Call]:
        with self._lock:
            return _sent(self.calls, chat_id)

    def named(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, condition: Callable[[list[Call]], bool], timeout: float = 15) -> list[Call]:
        """Block until the recorded calls meet `condition`, then return them all.

        Checked at once and again on every new call; TimeoutError (naming the calls)
        when `timeout` seconds pass first: a bound for a stuck test, never a measurement.
        """
        with self._lock:
            if not self._lock.wait_for(lambda: condition(self.calls), timeout):
                seen = [(c.method, c.params.get("chat_id")) for c in self.calls]
                raise TimeoutError(f"the fake Bot API never saw the expected calls: {seen}")
            return list(self.calls)

    def wait_sent(
        self, count: int, chat_id: int | str | None = None, timeout: float = 15
    ) -> list[Call]:
        """Block until at least `count` messages went to `chat_id` (any chat if None)."""
        self.wait_for(lambda calls: len(_sent(calls, chat_id)) >= count, timeout)
        return self.sent(chat_id)

    async def until(
        self, condition: Callable[[list[Call]], bool], timeout: float = 15
    ) -> list[Call]:
        """`wait_for` for a test that runs an event loop: the loop keeps running meanwhile."""
        return await asyncio.to_thread(self.wait_for, condition, timeout)

    async def until_sent(
        self, count: int, chat_id: int | str | None = None, timeout: float = 15
    ) -> list[Call]:
        """`wait_sent` for a test that runs an event loop."""
        return await asyncio.to_thread(self.wait_sent, count, chat_id, timeout)


def _sent(calls: list[Call], chat_id: int | str | None) -> list[Call]:
    return [
        c
        for c in calls
        if c.method == "sendMessage"
        and (chat_id is None or str(c.params["chat_id"]) == str(chat_id))
    ]
