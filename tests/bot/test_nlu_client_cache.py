"""The parse cache counts its hits and misses, so a benchmark can report how much it stood in."""

from __future__ import annotations

import httpx

from bot.metrics import Metrics
from bot.nlu_client import CACHE_METRIC, RasaClient
from tests.fakes.nlu_server import fake_nlu


async def test_cache_hits_and_misses_are_counted_by_normalised_text() -> None:
    metrics = Metrics()
    client = RasaClient(
        "http://nlu.test", transport=httpx.ASGITransport(app=fake_nlu()), metrics=metrics
    )
    try:
        for text in ("Dónde saco el DUI?", "donde saco el dui?", "hola"):
            assert (await client.classify(text)).intent == "documents"
    finally:
        await client.aclose()
    assert metrics.value(CACHE_METRIC, result="hit") == 1
    assert metrics.value(CACHE_METRIC, result="miss") == 2
    assert f'{CACHE_METRIC}{{result="hit"}} 1' in metrics.render()
