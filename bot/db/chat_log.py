"""Telegram message ids kept for "/borrar_chat", under the person's keyed hash.

The chat id itself is never stored: it comes with every update and is only
hashed here. Erasure and the purge (`bot.db.retention`) reach this table too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.telegram import CHANNEL
from bot.db.models import ChatMessageId, utcnow
from bot.privacy import Protector

IDS = cast(Table, ChatMessageId.__table__)


class SqlChatLog:
    def __init__(self, engine: AsyncEngine, protector: Protector) -> None:
        self._engine = engine
        self._protector = protector

    def _hash(self, chat_id: str) -> str:
        return self._protector.user_hash(CHANNEL, chat_id)

    async def remember(
        self, chat_id: str, message_ids: Sequence[int], at: dt.datetime | None = None
    ) -> None:
        if not message_ids:
            return
        user_hash, when = self._hash(chat_id), at or utcnow()
        async with self._engine.begin() as connection:
            await connection.execute(
                insert(IDS),
                [{"user_hash": user_hash, "message_id": i, "sent_at": when} for i in message_ids],
            )

    async def take_since(self, chat_id: str, since: dt.datetime) -> list[int]:
        """The ids sent after `since`, oldest first; every row of the chat is dropped."""
        user_hash = self._hash(chat_id)
        async with self._engine.begin() as connection:
            rows = await connection.execute(
                select(IDS.c.message_id)
                .where(IDS.c.user_hash == user_hash, IDS.c.sent_at > since)
                .order_by(IDS.c.message_id)
            )
            ids = [int(row.message_id) for row in rows]
            await connection.execute(delete(IDS).where(IDS.c.user_hash == user_hash))
        return list(dict.fromkeys(ids))
