"""The database-backed store the dispatcher talks to, built from one part per job.

`StateLog` (state, idempotency, message log), `Tickets` (handoffs) and `Retention`
(erasure, purge) each own their tables and can be built and tested alone; this
class only puts them behind the one object the dispatcher, the write-behind queue
and the staff pages are given, so they need not know how storage is divided.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.retention import PurgeResult, Retention
from bot.db.state_log import StateLog
from bot.db.tickets import Tickets
from bot.privacy import Protector
from kernel.types import EngineResult, HandoffRequest, IncomingMessage, UserState


class SqlStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], protector: Protector) -> None:
        self.log = StateLog(sessions, protector)
        self.tickets = Tickets(sessions, protector)
        self.retention = Retention(sessions, protector)

    # -- state and message log ------------------------------------------------
    async def load(self, channel: str, user_id: str) -> UserState:
        return await self.log.load(channel, user_id)

    async def first_time_seen(self, channel: str, message_id: str) -> bool:
        return await self.log.first_time_seen(channel, message_id)

    async def record(
        self, message: IncomingMessage, state: UserState, result: EngineResult
    ) -> None:
        await self.log.record(message, state, result)

    async def persist_many(
        self, items: list[tuple[IncomingMessage, UserState, EngineResult]]
    ) -> None:
        await self.log.persist_many(items)

    async def contact_state(self, channel: str, user_id: str) -> tuple[dt.datetime | None, bool]:
        return await self.log.contact_state(channel, user_id)

    async def record_delivery_failure(
        self, channel: str, message_sid: str, status: str, error_code: str | None
    ) -> None:
        await self.log.record_delivery_failure(channel, message_sid, status, error_code)

    # -- handoff tickets --------------------------------------------------------
    async def open_handoff(
        self, message: IncomingMessage, request: HandoffRequest
    ) -> tuple[str, bool]:
        return await self.tickets.open_handoff(message, request)

    async def open_ticket_reference(self, channel: str, user_id: str) -> str | None:
        return await self.tickets.open_ticket_reference(channel, user_id)

    async def close_handoff(self, reference: str, outcome: str) -> None:
        await self.tickets.close_handoff(reference, outcome)

    # -- erasure and retention --------------------------------------------------
    async def forget(self, channel: str, user_id: str) -> None:
        await self.retention.forget(channel, user_id)

    async def purge(self, retention_days: int, now: dt.datetime | None = None) -> PurgeResult:
        return await self.retention.purge(retention_days, now)
