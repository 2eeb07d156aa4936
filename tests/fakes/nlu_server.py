"""A stand-in for the NLU server: Rasa's /model/parse and, like ours, the batch route
(`nlu/components/batch_parse.py`), for fault tests that stop and restart the NLU."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.nlu_client import BATCH_PATH, PARSE_PATH


def fake_nlu(
    intent: str = "documents",
    confidence: float = 0.95,
    failures: list[int] | None = None,
    batch: bool = True,
    paths: list[str] | None = None,
) -> Starlette:
    """`failures`: status codes to answer the first requests with, one per request, in
    order (a server that is overloaded or restarting, then recovers). `batch=False` is a
    plain Rasa server without the batch route. `paths` gets the path of every request."""
    pending = list(failures or [])
    seen = paths if paths is not None else []

    def parsed(text: str) -> dict[str, Any]:
        ranking = [{"name": intent, "confidence": confidence}]
        return {"text": text, "intent": ranking[0], "intent_ranking": ranking}

    async def parse(request: Request) -> JSONResponse:
        seen.append(request.url.path)
        if pending:
            return JSONResponse({"error": "busy"}, status_code=pending.pop(0))
        body = await request.json()
        return JSONResponse(parsed(body["text"]))

    async def parse_many(request: Request) -> JSONResponse:
        seen.append(request.url.path)
        if pending:
            return JSONResponse({"error": "busy"}, status_code=pending.pop(0))
        body = await request.json()
        return JSONResponse({"results": [parsed(text) for text in body["texts"]]})

    async def status(_: Request) -> JSONResponse:
        return JSONResponse({"model_file": "fake.tar.gz"})

    async def no_route(request: Request) -> JSONResponse:
        seen.append(request.url.path)
        return JSONResponse({"error": "not found"}, status_code=404)

    routes = [Route(PARSE_PATH, parse, methods=["POST"]), Route("/status", status)]
    routes.append(Route(BATCH_PATH, parse_many if batch else no_route, methods=["POST"]))
    return Starlette(routes=routes)
