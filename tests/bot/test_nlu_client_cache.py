"""The parse cache counts its hits and misses, so a benchmark can report how much it stood in."""

from __future__ import annotations

from bot.metrics import Metrics
from bot.nlu_client import CACHE_METRIC, RasaClient
from tests.fakes.nlu_server import fake_nlu
from tests.fakes.server import serve


async def test_cache_hits_and_misses_are_counted_by_normalised_text() -> None:
    metrics = Metrics()
    with serve(fake_nlu()) as url:
        client = RasaClient(url, metrics=metrics)
        try:
            for text in ("Dónde saco el DUI?", "donde saco el dui?", "hola"):
                assert (await client.classify(text)).intent == "documents"
        finally:
            await client.aclose()
    assert metrics.value(CACHE_METRIC, result="hit") == 1
    assert metrics.value(CACHE_METRIC, result="miss") == 2
    assert f'{CACHE_METRIC}{{result="hit"}} 1' in metrics.render()
