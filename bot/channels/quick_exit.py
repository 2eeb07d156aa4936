"""Quick exit for the web chat: a control on the page that leaves little behind.

Domestic-violence services learned that a tool for people in danger must be
quick to leave (techsafety.org "safety first" guidance): a "Salida rápida /
Quick exit" button on the page and Escape pressed twice clear the conversation
from the page and the browser's storage, drop the page's identity cookie, and
replace the chat's history entry with a neutral page (`webchat.quick_exit_url`).
The page says once, briefly, what this cannot hide (content key `quick_exit`).

The script is a same-origin file (no inline script: the page keeps a strict
Content-Security-Policy); its settings are written at its top by the server.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kernel.types import ContentStore

SCRIPT = Path(__file__).with_name("quick_exit.js")
SCRIPT_PATH = "/static/quick_exit.js"
EXIT_PATH = "/api/chat/exit"
CONTENT_KEY = "quick_exit"


def script_settings(
    content: ContentStore, languages: Sequence[str], url: str
) -> dict[str, object]:
    """The button's label and the note in each language, for a page in that language, and
    in all of them at once ("Salida rápida / Quick exit") for a page in any other."""
    entries = {language: content.get(language, CONTENT_KEY) for language in languages}
    return {
        "url": url,
        "endpoint": EXIT_PATH,
        "label": " / ".join(dict.fromkeys(entry.title for entry in entries.values())),
        "note": " / ".join(dict.fromkeys(entry.text.strip() for entry in entries.values())),
        "texts": {
            language: {"label": entry.title, "note": entry.text.strip()}
            for language, entry in entries.items()
        },
    }


def routes(
    content: ContentStore,
    languages: Sequence[str],
    url: str,
    cookies: Sequence[str] = (),
) -> list[Route]:
    """`cookies`: the web chat's identity cookies, which the exit asks the browser to drop."""
    source = SCRIPT.read_text(encoding="utf-8")

    async def script(_: Request) -> Response:
        # Read per request: staff may publish a new wording of the note at any time.
        settings = json.dumps(script_settings(content, languages, url), ensure_ascii=False)
        body = f"const QUICK_EXIT = {settings};\n{source}"
        return Response(
            body,
            media_type="text/javascript",
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )

    async def leave(_: Request) -> Response:
        response = Response(status_code=204, headers={"Cache-Control": "no-store"})
        for name in cookies:
            response.delete_cookie(name, path="/", httponly=True, samesite="strict")
        return response

    return [
        Route(SCRIPT_PATH, script),
        Route(EXIT_PATH, leave, methods=["POST"]),
    ]
