"""Texts that arrive while the NLU is busy go together in its next request."""

from __future__ import annotations

import asyncio

import pytest

from bot.batching import Batcher
from kernel.types import IntentResult, NLUUnavailableError


class SlowServer:
    """Answers each batch when the test lets it, and remembers what each batch held."""

    def __init__(self, fail_on: str = "") -> None:
        self.batches: list[list[str]] = []
        self.release = asyncio.Event()
        self.fail_on = fail_on

    async def send(self, texts: list[str]) -> list[IntentResult]:
        self.batches.append(list(texts))
        await self.release.wait()
        if self.fail_on in texts:
            raise NLUUnavailableError("server error")
        return [IntentResult(f"intent-of-{t}", 0.9) for t in texts]


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_texts_arriving_while_busy_go_together_and_each_gets_its_own_result() -> None:
    server = SlowServer()
    batcher = Batcher(server.send, limit=32, in_flight=1)
    first = asyncio.create_task(batcher.parse(["a"]))
    await _settle()
    second = asyncio.create_task(batcher.parse(["b"]))
    third = asyncio.create_task(batcher.parse(["c", "d"]))
    await _settle()
    assert server.batches == [["a"]]  # the idle server got "a" at once; the rest waits
    server.release.set()
    results = await asyncio.gather(first, second, third)
    assert server.batches == [["a"], ["b", "c", "d"]]
    assert [[r.intent for r in rs] for rs in results] == [
        ["intent-of-a"],
        ["intent-of-b"],
        ["intent-of-c", "intent-of-d"],
    ]


async def test_batches_keep_to_the_limit_and_the_requests_in_flight() -> None:
    server = SlowServer()
    batcher = Batcher(server.send, limit=2, in_flight=2)
    task = asyncio.create_task(batcher.parse(["a", "b", "c", "d", "e"]))
    await _settle()
    assert server.batches == [["a", "b"], ["c", "d"]]
    server.release.set()
    assert [r.intent for r in await task] == [f"intent-of-{t}" for t in "abcde"]
    assert server.batches[-1] == ["e"]


async def test_a_failed_batch_fails_its_waiters_and_the_next_batch_still_goes() -> None:
    server = SlowServer(fail_on="bad")
    batcher = Batcher(server.send, limit=32, in_flight=1)
    failing = asyncio.create_task(batcher.parse(["bad"]))
    await _settle()
    fine = asyncio.create_task(batcher.parse(["good"]))
    server.release.set()
    with pytest.raises(NLUUnavailableError):
        await failing
    assert [r.intent for r in await fine] == ["intent-of-good"]


async def test_a_waiter_that_gives_up_does_not_disturb_the_others() -> None:
    server = SlowServer()
    batcher = Batcher(server.send, limit=32, in_flight=1)
    busy = asyncio.create_task(batcher.parse(["a"]))
    await _settle()
    gives_up = asyncio.create_task(batcher.parse(["b"]))
    stays = asyncio.create_task(batcher.parse(["c"]))
    await _settle()
    gives_up.cancel()
    server.release.set()
    assert [r.intent for r in await stays] == ["intent-of-c"]
    assert [r.intent for r in await busy] == ["intent-of-a"]
    assert gives_up.cancelled()
    assert server.batches == [["a"], ["c"]]  # nobody waits for "b" any more


async def test_an_answer_with_the_wrong_count_fails_its_waiters_instead_of_leaving_them() -> None:
    async def short(texts: list[str]) -> list[IntentResult]:
        return [IntentResult("documents", 0.9)]

    batcher = Batcher(short, limit=32, in_flight=1)
    with pytest.raises(ValueError):
        await asyncio.wait_for(batcher.parse(["a", "b"]), timeout=5)
