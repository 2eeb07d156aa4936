"""Natural batching: requests that arrive while a batch is out share the next one.

Two users. The database's group commit (`bot/db/batching.py`): one statement per
batch of first-seen checks and state loads. The NLU client: under load many
messages wait for the NLU at once and the server handles one request at a time;
each request costs the app an HTTP round (the largest share of the app's CPU
under load, docs/benchmarks.md) and the server its per-request overhead and
one encoder pass, whose time goes mostly into streaming weights whatever the
number of texts. So at most `in_flight` batches are out at a time; items that
arrive meanwhile wait for the next one and go together. When nothing is out an
item goes at once: nothing waits for a batch to fill.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """`send` gives one result per item; an exception in an item's place fails that
    item's waiter alone."""

    def __init__(
        self,
        send: Callable[[list[T]], Awaitable[Sequence[R | Exception]]],
        limit: int,
        in_flight: int,
    ) -> None:
        self._send = send
        self._limit = max(1, limit)
        self._in_flight = max(1, in_flight)
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._running: set[asyncio.Task[None]] = set()

    async def parse(self, items: Sequence[T]) -> list[R]:
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[R]] = [loop.create_future() for _ in items]
        self._pending.extend(zip(items, futures, strict=True))
        self._pump()
        try:
            await asyncio.wait(futures)
        except asyncio.CancelledError:
            for future in futures:
                future.cancel()  # not sent yet: dropped; sent: its result is ignored
            raise
        failed = [exc for exc in (f.exception() for f in futures) if exc is not None]
        if failed:
            raise failed[0]
        return [future.result() for future in futures]

    def _pump(self) -> None:
        # Items whose waiter gave up (its request was cancelled) are not sent at all.
        self._pending = [item for item in self._pending if not item[1].done()]
        while self._pending and len(self._running) < self._in_flight:
            batch = self._pending[: self._limit]
            del self._pending[: self._limit]
            task = asyncio.create_task(self._deliver(batch))
            self._running.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._pump()

    async def _deliver(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        # A waiter that gave up meanwhile has a done future: skipped.
        try:
            results = await self._send([item for item, _ in batch])
            if len(results) != len(batch):
                raise ValueError("a batch answered without one result per item")
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
