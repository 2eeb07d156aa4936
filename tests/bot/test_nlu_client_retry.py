"""A parse that fails for a moment gets another try, so a message in a burst is still
read by the model (and its safety rule) instead of only by the phrase lists."""

from __future__ import annotations

import httpx
import pytest

from bot.metrics import Metrics
from bot.nlu_client import RETRY_METRIC, RasaClient
from kernel.types import NLUUnavailableError
from tests.fakes.nlu_server import fake_nlu


def _client(failures: list[int], attempts: int, metrics: Metrics) -> RasaClient:
    app = fake_nlu("trafficking_emergency", failures=failures)
    return RasaClient(
        "http://nlu.test",
        transport=httpx.ASGITransport(app=app),
        metrics=metrics,
        attempts=attempts,
    )


async def test_a_server_error_then_an_answer_gives_the_answer() -> None:
    metrics = Metrics()
    client = _client([503, 502], attempts=3, metrics=metrics)
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
    client = _client(failures, attempts=3, metrics=metrics)
    try:
        with pytest.raises(NLUUnavailableError):
            await client.classify("me tienen encerrada")
    finally:
        await client.aclose()
    assert metrics.value(RETRY_METRIC) == retries


async def test_a_timeout_is_tried_again() -> None:
    """The first parse outlives the client timeout (raised at the transport, the network edge)."""
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ReadTimeout("slow", request=request)
        ranking = [{"name": "self_harm", "confidence": 0.9}]
        parsed = {"intent": ranking[0], "intent_ranking": ranking}
        return httpx.Response(200, json={"results": [parsed]})

    client = RasaClient("http://nlu.test", transport=httpx.MockTransport(handler), attempts=2)
    try:
        assert (await client.classify("ya no quiero seguir")).intent == "self_harm"
    finally:
        await client.aclose()
    assert calls == 2
