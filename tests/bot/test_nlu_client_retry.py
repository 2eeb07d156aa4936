"""A parse that fails for a moment gets another try, so a message in a burst is still
read by the model (and its safety rule) instead of only by the phrase lists."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.metrics import Metrics
from bot.nlu_client import BATCH_PATH, RETRY_METRIC, RasaClient
from kernel.types import NLUUnavailableError
from tests.fakes.nlu_server import fake_nlu
from tests.fakes.server import serve


@contextmanager
def _client(failures: list[int], attempts: int, metrics: Metrics) -> Iterator[RasaClient]:
    with serve(fake_nlu("trafficking_emergency", failures=failures)) as url:
        yield RasaClient(url, metrics=metrics, attempts=attempts)


async def test_a_server_error_then_an_answer_gives_the_answer() -> None:
    metrics = Metrics()
    with _client([503, 502], attempts=3, metrics=metrics) as client:
        try:
            result = await client.classify("me tienen encerrada")
        finally:
            await client.aclose()
    assert result.intent == "trafficking_emergency"
    assert metrics.value(RETRY_METRIC) == 2


@pytest.mark.parametrize(
    ("failures", "retries"),
    [
        ([503, 503, 503], 2),  # tries stop at the configured number
        ([401], 0),  # a refused token is not tried again
    ],
)
async def test_a_parse_that_keeps_failing_gives_up(failures: list[int], retries: int) -> None:
    metrics = Metrics()
    with _client(failures, attempts=3, metrics=metrics) as client:
        try:
            with pytest.raises(NLUUnavailableError):
                await client.classify("me tienen encerrada")
        finally:
            await client.aclose()
    assert metrics.value(RETRY_METRIC) == retries


async def test_a_timeout_is_tried_again() -> None:
    """The first parse outlives the client's timeout; the second is answered at once."""
    calls = 0

    async def parse_many(request: Request) -> JSONResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(3)
        ranking = [{"name": "self_harm", "confidence": 0.9}]
        parsed = {"intent": ranking[0], "intent_ranking": ranking}
        return JSONResponse({"results": [parsed]})

    app = Starlette(routes=[Route(BATCH_PATH, parse_many, methods=["POST"])])
    with serve(app) as url:
        client = RasaClient(url, timeout_seconds=0.5, attempts=2)
        try:
            assert (await client.classify("ya no quiero seguir")).intent == "self_harm"
        finally:
            await client.aclose()
    assert calls == 2
