"""A stand-in for Rasa's /model/parse, for fault tests that stop and restart the NLU."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def fake_nlu(intent: str = "documents", confidence: float = 0.95) -> Starlette:
    async def parse(request: Request) -> JSONResponse:
        body = await request.json()
        ranking = [{"name": intent, "confidence": confidence}]
        return JSONResponse({"text": body["text"], "intent": ranking[0], "intent_ranking": ranking})

    async def status(_: Request) -> JSONResponse:
        return JSONResponse({"model_file": "fake.tar.gz"})

    return Starlette(
        routes=[Route("/model/parse", parse, methods=["POST"]), Route("/status", status)]
    )
