"""Group commit: requests that arrive while a statement runs share the next one.

Every inbound message needs two answers from the database before it is handled
(has this id been seen? what is this person's state?), and both must hold across
workers. One statement per message was the biggest cost of a reply under load;
batching makes it one statement per batch. When traffic is light a batch holds
one request and nothing waits longer than before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.batching import Batcher

T = TypeVar("T")
R = TypeVar("R")
MAX_BATCH = 256


class GroupCommit(Batcher[T, R]):
    """One statement out at a time; one item per waiter."""

    def __init__(self, run: Callable[[list[T]], Awaitable[list[R]]]) -> None:
        super().__init__(run, limit=MAX_BATCH, in_flight=1)

    async def submit(self, item: T) -> R:
        return (await self.parse([item]))[0]
