"""Staff replies to people on the web chat, held until their page collects them.

The web chat has no push channel: the page asks every few seconds. Replies wait
in the database, so any worker can take them and none is lost on a restart;
they are found by the same keyed hash as the person, never by the raw id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.render import numbered_text
from bot.core import Reply
from bot.db.models import WebOutboxMessage, utcnow
from bot.outbound import Delivery
from bot.privacy import Protector

CHANNEL = "web"
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

    async def take(self, user_id: str) -> list[str]:
        """Waiting replies, oldest first; each is handed out once."""
        user_hash = self._protector.user_hash(CHANNEL, user_id)
        async with self._engine.begin() as connection:
            rows = (
                await connection.execute(
                    select(_OUTBOX.c.id, _OUTBOX.c.text)
                    .where(_OUTBOX.c.user_hash == user_hash)
                    .order_by(_OUTBOX.c.id)
                )
            ).all()
            if rows:
                await connection.execute(
                    delete(_OUTBOX).where(_OUTBOX.c.id.in_([row.id for row in rows]))
                )
        return [str(row.text) for row in rows]
