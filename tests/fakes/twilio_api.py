"""A stand-in for Twilio's REST API (Messages resource): records what it is asked to send."""

from __future__ import annotations

import itertools
import threading
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
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def create(request: Request) -> JSONResponse:
            import base64

            expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {expected}":
                return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, 401)
            form = {k: str(v) for k, v in (await request.form()).items()}
            with self._lock:
                if self.fail_next > 0:
                    self.fail_next -= 1
                    return JSONResponse({"code": 20500, "message": "Internal", "status": 500}, 500)
            if self.refuse_with is not None:
                return JSONResponse(
                    {"code": self.refuse_with, "message": "refused", "status": 400}, 400
                )
            with self._lock:
                self.messages.append(form)
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
