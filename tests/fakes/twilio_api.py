"""A stand-in for Twilio's REST API (Messages resource): records what it is asked to send."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class FakeTwilioAPI:
    account_sid: str
    auth_token: str
    messages: list[dict[str, str]] = field(default_factory=list)
    refuse_with: int | None = None  # Twilio error code to answer with
    fail_next: int = 0  # answer this many requests with 500
    rate_limit_next: int = 0  # answer this many requests with 429 and Retry-After
    retry_after: int = 1
    refuse_to: dict[str, int] = field(default_factory=dict)  # To -> Twilio error code
    times: list[float] = field(default_factory=list)  # receive time of each accepted message
    attempts: list[tuple[str, float, int]] = field(default_factory=list)  # (To, time, status)
    hold: bool = False  # park requests unprocessed until released (crash tests)
    held: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def create(request: Request) -> JSONResponse:
            import base64

            expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {expected}":
                return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, 401)
            form = {k: str(v) for k, v in (await request.form()).items()}
            if self.hold:
                with self._lock:
                    self.held += 1
                while self.hold:
                    await asyncio.sleep(0.01)
                return JSONResponse({"code": 20500, "message": "Internal", "status": 500}, 500)
            now = time.monotonic()
            to = form.get("To", "")
            with self._lock:
                if self.rate_limit_next > 0:
                    self.rate_limit_next -= 1
                    self.attempts.append((to, now, 429))
                    return JSONResponse(
                        {"code": 20429, "message": "Too Many Requests", "status": 429},
                        429,
                        headers={"Retry-After": str(self.retry_after)},
                    )
                if to in self.refuse_to:
                    self.attempts.append((to, now, 400))
                    return JSONResponse(
                        {"code": self.refuse_to[to], "message": "refused", "status": 400}, 400
                    )
                if self.fail_next > 0:
                    self.fail_next -= 1
                    return JSONResponse({"code": 20500, "message": "Internal", "status": 500}, 500)
            if self.refuse_with is not None:
                return JSONResponse(
                    {"code": self.refuse_with, "message": "refused", "status": 400}, 400
                )
            with self._lock:
                self.messages.append(form)
                self.times.append(now)
                self.attempts.append((to, now, 201))
                sid = f"SM{next(self._ids):032d}"
            return JSONResponse(self._message(sid, form), status_code=201)

        path = "/2010-04-01/Accounts/{account}/Messages.json"
        return Starlette(routes=[Route(path, create, methods=["POST"])])

    def _message(self, sid: str, form: dict[str, str]) -> dict[str, Any]:
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body", ""),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": "Mon, 23 Nov 2026 16:00:00 +0000",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
