"""Write-behind in front of the SQL store: replies do not wait for the message log.

`record` queues the exchange and the state; one background task per worker writes them,
many exchanges per transaction. The latest state of each person waiting in the
queue is served from memory, so their next message sees it. Everything that
must be exact at once (deduplication, tickets, erasure) goes straight through,
after the queue is flushed where order matters.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import time

from sqlalchemy.exc import InterfaceError, OperationalError

from bot.db.store import SqlStore
from bot.metrics import Metrics
from kernel.types import EngineResult, HandoffRequest, IncomingMessage, UserState

log = logging.getLogger(__name__)
BATCH = 64
FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 8.0
# A database restart or failover takes seconds; keep retrying a batch this long
# before it is given up and counted as dropped.
RETRY_WINDOW_SECONDS = 60.0
SHUTDOWN_GRACE_SECONDS = 10.0


def _transient(exc: Exception) -> bool:
    return isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError)


class WriteBehindStore:
    def __init__(self, inner: SqlStore, metrics: Metrics, max_pending: int = 10_000) -> None:
        self.inner = inner
        self._metrics = metrics
        self._queue: asyncio.Queue[tuple[IncomingMessage, UserState, EngineResult]] = (
            asyncio.Queue()
        )
        self._states: dict[tuple[str, str], UserState] = {}
        self._writer: asyncio.Task[None] | None = None
        self._max_pending = max_pending
        self._in_flight = 0

    # -- the reply path -------------------------------------------------------
    async def load(self, channel: str, user_id: str) -> UserState:
        pending = self._states.get((channel, user_id))
        if pending is not None:
            return copy.deepcopy(pending)
        return await self.inner.load(channel, user_id)

    async def record(
        self, message: IncomingMessage, state: UserState, result: EngineResult
    ) -> None:
        key = (message.channel, message.user_id)
        state = copy.deepcopy(state)  # the caller may go on changing its copy
        if self._queue.qsize() >= self._max_pending:
            self._metrics.inc("ventanilla_dropped_writes_total")
            log.error("write queue full: an exchange was not stored")
            return
        self._states[key] = state
        self._queue.put_nowait((message, state, result))
        self._ensure_writer()

    async def first_time_seen(self, channel: str, message_id: str) -> bool:
        return await self.inner.first_time_seen(channel, message_id)

    # -- operations that must see everything written --------------------------
    async def open_handoff(
        self, message: IncomingMessage, request: HandoffRequest
    ) -> tuple[str, bool]:
        return await self.inner.open_handoff(message, request)

    async def close_handoff(self, reference: str, outcome: str) -> None:
        await self.inner.close_handoff(reference, outcome)

    async def forget(self, channel: str, user_id: str) -> None:
        await self.flush()
        self._states.pop((channel, user_id), None)
        await self.inner.forget(channel, user_id)

    # -- the writer ------------------------------------------------------------
    def _ensure_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever())

    async def _write_forever(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._in_flight = len(batch)
            await self._write(batch)
            self._in_flight = 0
            for _ in batch:
                self._queue.task_done()

    async def _write(self, batch: list[tuple[IncomingMessage, UserState, EngineResult]]) -> None:
        started = time.monotonic()
        delay = FIRST_RETRY_SECONDS
        while True:
            try:
                await self.inner.persist_many(batch)
                break
            except Exception as exc:
                if not _transient(exc):
                    # The database refused the batch (a constraint, bad data): retrying
                    # would only hold up everything behind it, so each exchange is
                    # written on its own and only the refused one is dropped.
                    await self._write_each(batch)
                    break
                if time.monotonic() - started + delay > RETRY_WINDOW_SECONDS:
                    log.error(
                        "storing %d exchanges failed for %.0fs; dropped (%s)",
                        len(batch),
                        time.monotonic() - started,
                        type(exc).__name__,
                    )
                    self._metrics.inc("ventanilla_dropped_writes_total", len(batch))
                    break
                log.warning(
                    "storing %d exchanges failed (%s); retrying in %.1fs",
                    len(batch),
                    type(exc).__name__,
                    delay,
                )
                self._metrics.inc("ventanilla_write_retries_total")
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)
        for message, state, _ in batch:
            key = (message.channel, message.user_id)
            if self._states.get(key) is state:
                del self._states[key]

    async def _write_each(
        self, batch: list[tuple[IncomingMessage, UserState, EngineResult]]
    ) -> None:
        for item in batch:
            try:
                await self.inner.persist_many([item])
            except Exception as exc:
                log.error("an exchange the database refused was dropped (%s)", type(exc).__name__)
                self._metrics.inc("ventanilla_dropped_writes_total")

    async def flush(self) -> None:
        if self._writer is not None and not self._writer.done():
            await self._queue.join()

    async def aclose(self) -> None:
        try:
            await asyncio.wait_for(self.flush(), SHUTDOWN_GRACE_SECONDS)
        except TimeoutError:
            left = self._queue.qsize() + self._in_flight
            log.error("shutting down with %d exchanges not stored; counted as dropped", left)
            self._metrics.inc("ventanilla_dropped_writes_total", left)
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    # -- pass-through for channels and staff pages ------------------------------
    async def contact_state(self, channel: str, user_id: str):  # type: ignore[no-untyped-def]
        await self.flush()
        return await self.inner.contact_state(channel, user_id)

    async def record_delivery_failure(
        self, channel: str, message_sid: str, status: str, error_code: str | None
    ) -> None:
        await self.inner.record_delivery_failure(channel, message_sid, status, error_code)

    async def purge(self, retention_days: int):  # type: ignore[no-untyped-def]
        await self.flush()
        return await self.inner.purge(retention_days)
