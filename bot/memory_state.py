"""In-process state store: the default until the database layer takes over, and the tests' store."""

from __future__ import annotations

import copy
from collections import OrderedDict

from kernel.types import EngineResult, HandoffRequest, IncomingMessage, UserState


class InMemoryStateStore:
    """Implements `StateStore`; processed message ids are kept in a bounded LRU."""

    def __init__(self, dedupe_size: int = 10_000) -> None:
        self._states: dict[tuple[str, str], UserState] = {}
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._dedupe_size = dedupe_size
        self.handoffs: list[tuple[str, str, str]] = []
        self._tickets: dict[str, tuple[str, str]] = {}

    async def load(self, channel: str, user_id: str) -> UserState:
        return copy.deepcopy(self._states.get((channel, user_id), UserState()))

    async def first_time_seen(self, channel: str, message_id: str) -> bool:
        key = (channel, message_id)
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self._dedupe_size:
            self._seen.popitem(last=False)
        return True

    async def record(
        self, message: IncomingMessage, state: UserState, result: EngineResult
    ) -> None:
        self._states[(message.channel, message.user_id)] = copy.deepcopy(state)

    async def open_handoff(
        self, message: IncomingMessage, request: HandoffRequest
    ) -> tuple[str, bool]:
        key = (message.channel, message.user_id)
        state = self._states.setdefault(key, UserState())
        if state.open_ticket:
            return state.open_ticket, False
        reference = f"T{len(self.handoffs) + 1:05d}"
        self.handoffs.append((message.channel, message.user_id, request.reason))
        self._tickets[reference] = key
        return reference, True

    async def close_handoff(self, reference: str, outcome: str) -> None:
        key = self._tickets.pop(reference, None)
        if key is not None and key in self._states:
            self._states[key].open_ticket = None
            self._states[key].with_human = False

    async def forget(self, channel: str, user_id: str) -> None:
        self._states.pop((channel, user_id), None)
        self.handoffs = [h for h in self.handoffs if (h[0], h[1]) != (channel, user_id)]
