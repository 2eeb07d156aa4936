"""A message and its sentences go to the NLU server in one request; a plain Rasa server
without the batch route is still served, one text per request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.nlu_client import BATCH_LIMIT, BATCH_PATH, PARSE_PATH, RasaClient
from kernel.types import IntentResult, NLUUnavailableError
from tests.fakes.nlu_server import fake_nlu
from tests.fakes.server import serve


@asynccontextmanager
async def _client(paths: list[str], batch: bool = True) -> AsyncIterator[RasaClient]:
    with serve(fake_nlu("documents", batch=batch, paths=paths)) as url:
        client = RasaClient(url)
        try:
            yield client
        finally:
            await client.aclose()


async def test_uncached_texts_go_in_one_request_and_results_keep_their_order() -> None:
    paths: list[str] = []
    async with _client(paths) as client:
        await client.classify("hola")
        results = await client.classify_many(["Hola", "me deportaron ayer", "dónde saco el DUI"])
    assert [r.intent for r in results] == ["documents"] * 3
    # "Hola" was cached by the first call; the two others went together.
    assert paths == [BATCH_PATH, BATCH_PATH]


async def test_a_server_without_the_batch_route_is_asked_one_text_at_a_time() -> None:
    paths: list[str] = []
    async with _client(paths, batch=False) as client:
        first = await client.classify_many(["me deportaron ayer", "dónde saco el DUI"])
        second = await client.classify_many(["necesito trabajo", "hay cursos"])
    assert [r.intent for r in [*first, *second]] == ["documents"] * 4
    # The route is tried once; the client remembers it is missing.
    assert paths.count(BATCH_PATH) == 1
    assert paths.count(PARSE_PATH) == 4


async def test_more_texts_than_the_route_takes_are_sent_in_several_requests() -> None:
    paths: list[str] = []
    texts = [f"pregunta número {n} sobre el pasaporte" for n in range(BATCH_LIMIT + 3)]
    async with _client(paths) as client:
        results = await client.classify_many(texts)
    assert len(results) == len(texts)
    assert paths == [BATCH_PATH, BATCH_PATH]


async def test_a_text_the_server_could_not_parse_fails_only_its_own_message() -> None:
    async def parse_many(request: Request) -> JSONResponse:
        texts = (await request.json())["texts"]
        ranking = [{"name": "documents", "confidence": 0.9}]
        return JSONResponse(
            {
                "results": [
                    {"error": "the model could not parse this text"}
                    if "rota" in text
                    else {"intent": ranking[0], "intent_ranking": ranking}
                    for text in texts
                ]
            }
        )

    with serve(Starlette(routes=[Route(BATCH_PATH, parse_many, methods=["POST"])])) as url:
        client = RasaClient(url)
        try:
            fine, broken = await asyncio.gather(
                client.classify("donde saco el dui"),
                client.classify("una frase rota"),
                return_exceptions=True,
            )
        finally:
            await client.aclose()
    assert isinstance(fine, IntentResult) and fine.intent == "documents"
    assert isinstance(broken, NLUUnavailableError)
