"""Security headers on pages and API, /metrics behind a token, over real HTTP."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.content import FileContentStore
from bot.security_headers import SecurityHeaders
from bot.settings import SecretSettings, Settings
from bot.web import build_app
from tests.bot.admin.test_login_security import running_site
from tests.conftest import sqlite_stack, web_deps
from tests.fakes.server import serve


def test_headers_on_the_chat_page_the_staff_login_and_the_api(
    settings: Settings, tmp_path: Path
) -> None:
    with running_site(settings, tmp_path / "headers.sqlite3", {}) as site:
        page = httpx.get(f"{site.url}/")
        login = httpx.get(f"{site.url}/admin/login")
        api = httpx.post(f"{site.url}/api/chat", json={"text": "hola"})
        refused = httpx.post(
            f"{site.url}/api/chat", json={}, headers={"Origin": "https://evil.example"}
        )
        assert refused.status_code == 403
        script = httpx.get(f"{site.url}/static/webchat.js")
        for response in (page, login, api, refused, script):
            headers = response.headers
            csp = headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
            assert "frame-ancestors 'none'" in csp
            assert headers["x-frame-options"] == "DENY"
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "no-referrer"
            assert "strict-transport-security" not in headers  # development: plain HTTP
        assert login.headers["cache-control"] == "no-store"
        assert api.headers["cache-control"] == "no-store"
        # The page runs no inline script: its script is a file the policy allows.
        assert "<script>" not in page.text and 'src="/static/webchat.js"' in page.text
        assert script.status_code == 200 and "fetch(" in script.text


def _app(settings: Settings, content: FileContentStore, path: Path):  # type: ignore[no-untyped-def]
    stack = sqlite_stack(settings, content, path)
    runtime = web_deps(
        settings, stack.dispatcher, stack.store, content, stack.engine, stack.protector
    )
    return build_app(runtime, [], purge=False)


def test_metrics_need_the_token_and_are_off_in_production_without_one(
    settings: Settings, content: FileContentStore, tmp_path: Path
) -> None:
    production = dataclasses.replace(settings, mode="production", secrets=SecretSettings())
    with serve(_app(production, content, tmp_path / "m1.sqlite3")) as url:
        assert httpx.get(f"{url}/metrics").status_code == 404
        hsts = httpx.get(f"{url}/").headers["strict-transport-security"]
        assert hsts.startswith("max-age=")
    token = "metrics-token-" + "t" * 32
    guarded = dataclasses.replace(
        settings, mode="production", secrets=SecretSettings(metrics_token=token)
    )
    with serve(_app(guarded, content, tmp_path / "m2.sqlite3")) as url:
        chat = httpx.post(f"{url}/api/chat", json={"text": "hola"})
        assert chat.status_code == 200 and "secure" in chat.headers["set-cookie"].lower()
        assert httpx.get(f"{url}/metrics").status_code == 401
        wrong = httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"})
        assert right.status_code == 200 and "ventanilla_" in right.text


def test_a_routes_own_headers_are_replaced_once_and_its_cache_control_kept_where_allowed() -> (
    None
):
    async def cached(_: Request) -> Response:
        return Response(
            "x", headers={"Cache-Control": "max-age=60", "X-Frame-Options": "SAMEORIGIN"}
        )

    app = Starlette(
        routes=[Route("/static/a", cached), Route("/api/a", cached)],
        middleware=[Middleware(SecurityHeaders, hsts=True)],
    )
    with serve(app) as url:
        static = httpx.get(f"{url}/static/a").headers
        api = httpx.get(f"{url}/api/a").headers
    for headers in (static, api):
        assert headers.get_list("x-frame-options") == ["DENY"]
        assert headers.get_list("strict-transport-security") == [
            "max-age=31536000; includeSubDomains"
        ]
    assert static.get_list("cache-control") == ["max-age=60"]
    assert api.get_list("cache-control") == ["no-store"]
