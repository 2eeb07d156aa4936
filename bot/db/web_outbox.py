"""Staff replies to people on the web chat, held until their page collects them.

The web chat has no push channel: the page asks every few seconds. Replies wait
in the database, so any worker can take them and none is lost on a restart;
they are found by the same keyed hash as the person, never by the raw id.
A reply leaves the outbox only when the page says it has shown it, so a poll
that is lost on the way (a phone going offline) does not lose the reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.render import numbered_text
from bot.channels.webchat import CHANNEL
from bot.db.models import WebOutboxMessage, utcnow
from bot.privacy import Protector
from kernel.types import Delivery, Reply

_OUTBOX = cast(Table, WebOutboxMessage.__table__)


class WebOutbox:
    def __init__(self, engine: AsyncEngine, protector: Protector) -> None:
        self._engine = engine
        self._protector = protector

    async def deliver(self, user_id: str, replies: Sequence[Reply]) -> Delivery:
        """The outbound hook for the inbox: queue the reply for the person's page."""
        user_hash = self._protector.user_hash(CHANNEL, user_id)
        now = utcnow()
        async with self._engine.begin() as connection:
            await connection.execute(
                insert(_OUTBOX),
                [
                    {"user_hash": user_hash, "text": numbered_text(r), "created_at": now}
                    for r in replies
                ],
            )
        return Delivery(True, "web_chat", "shown when the person's chat page next checks")

    async def pending(self, user_id: str) -> list[tuple[int, str]]:
        """Waiting replies, oldest first, with the id the page acknowledges them by."""
        user_hash = self._protector.user_hash(CHANNEL, user_id)
        async with self._engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(_OUTBOX.c.id, _OUTBOX.c.text)
                    .where(_OUTBOX.c.user_hash == user_hash)
                    .order_by(_OUTBOX.c.id)
                )
            ).all()
        return [(int(row.id), str(row.text)) for row in rows]

    async def acknowledge(self, user_id: str, up_to: int) -> int:
        """The page has shown every reply up to this id: only this person's are removed."""
        user_hash = self._protector.user_hash(CHANNEL, user_id)
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(_OUTBOX).where(_OUTBOX.c.user_hash == user_hash, _OUTBOX.c.id <= up_to)
            )
        return int(getattr(result, "rowcount", 0) or 0)
