"""A message and its sentences go to the NLU server in one request; a plain Rasa server
without the batch route is still served, one text per request."""

from __future__ import annotations

import asyncio
import json

import httpx

from bot.nlu_client import BATCH_LIMIT, BATCH_PATH, PARSE_PATH, RasaClient
from kernel.types import IntentResult, NLUUnavailableError
from tests.fakes.nlu_server import fake_nlu


class _Recording(httpx.AsyncBaseTransport):
    """The fake server's transport, noting the path of every request."""

    def __init__(self, inner: httpx.AsyncBaseTransport, paths: list[str]) -> None:
        self._inner, self._paths = inner, paths

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._paths.append(request.url.path)
        return await self._inner.handle_async_request(request)


def _client(paths: list[str], batch: bool = True) -> RasaClient:
    app = fake_nlu("documents", batch=batch)
    return RasaClient(
        "http://nlu.test", transport=_Recording(httpx.ASGITransport(app=app), paths)
    )


async def test_uncached_texts_go_in_one_request_and_results_keep_their_order() -> None:
    paths: list[str] = []
    client = _client(paths)
    try:
        await client.classify("hola")
        results = await client.classify_many(["Hola", "me deportaron ayer", "dónde saco el DUI"])
    finally:
        await client.aclose()
    assert [r.intent for r in results] == ["documents"] * 3
    # "Hola" was cached by the first call; the two others went together.
    assert paths == [BATCH_PATH, BATCH_PATH]


async def test_a_server_without_the_batch_route_is_asked_one_text_at_a_time() -> None:
    paths: list[str] = []
    client = _client(paths, batch=False)
    try:
        first = await client.classify_many(["me deportaron ayer", "dónde saco el DUI"])
        second = await client.classify_many(["necesito trabajo", "hay cursos"])
    finally:
        await client.aclose()
    assert [r.intent for r in [*first, *second]] == ["documents"] * 4
    # The route is tried once; the client remembers it is missing.
    assert paths.count(BATCH_PATH) == 1
    assert paths.count(PARSE_PATH) == 4


async def test_more_texts_than_the_route_takes_are_sent_in_several_requests() -> None:
    paths: list[str] = []
    client = _client(paths)
    texts = [f"pregunta número {n} sobre el pasaporte" for n in range(BATCH_LIMIT + 3)]
    try:
        results = await client.classify_many(texts)
    finally:
        await client.aclose()
    assert len(results) == len(texts)
    assert paths == [BATCH_PATH, BATCH_PATH]


async def test_a_text_the_server_could_not_parse_fails_only_its_own_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        texts = json.loads(request.content)["texts"]
        ranking = [{"name": "documents", "confidence": 0.9}]
        return httpx.Response(
            200,
            json={
                "results": [
                    {"error": "the model could not parse this text"}
                    if "rota" in text
                    else {"intent": ranking[0], "intent_ranking": ranking}
                    for text in texts
                ]
            },
        )

    client = RasaClient("http://nlu.test", transport=httpx.MockTransport(handler))
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
