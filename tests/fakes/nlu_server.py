"""A stand-in for Rasa's /model/parse, for fault tests that stop and restart the NLU."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def fake_nlu(
    intent: str = "documents", confidence: float = 0.95, failures: list[int] | None = None
) -> Starlette:
    """`failures`: status codes to answer the first parses with, one per parse, in order
    (a server that is overloaded or restarting, then recovers)."""
    pending = list(failures or [])

    async def parse(request: Request) -> JSONResponse:
        if pending:
            return JSONResponse({"error": "busy"}, status_code=pending.pop(0))
        body = await request.json()
        ranking = [{"name": intent, "confidence": confidence}]
        return JSONResponse({"text": body["text"], "intent": ranking[0], "intent_ranking": ranking})

    async def status(_: Request) -> JSONResponse:
        return JSONResponse({"model_file": "fake.tar.gz"})

    return Starlette(
        routes=[Route("/model/parse", parse, methods=["POST"]), Route("/status", status)]
    )
