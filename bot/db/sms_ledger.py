"""What the SMS channel must remember per sender, in the database so every worker agrees.

Rows are found by the keyed hash of ("sms", number); erasing a person and the
retention purge reach this table too (`bot.db.retention`).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.sms import CHANNEL, SmsAccount
from bot.db import statements as sql
from bot.db.models import SmsLedger, utcnow
from bot.privacy import Protector

LEDGER = cast(Table, SmsLedger.__table__)


class SqlSmsLedger:
    def __init__(self, engine: AsyncEngine, protector: Protector) -> None:
        self._engine = engine
        self._protector = protector
        self._upsert = sql.dialect_insert(engine, LEDGER)
        excluded = self._upsert.excluded
        self._upsert = self._upsert.on_conflict_do_update(
            index_elements=[LEDGER.c.user_hash],
            set_={
                column: getattr(excluded, column)
                for column in (
                    "stopped",
                    "language",
                    "day",
                    "segments",
                    "cap_notified",
                    "more",
                    "more_preview",
                    "updated_at",
                )
            },
        )

    def _hash(self, number: str) -> str:
        return self._protector.user_hash(CHANNEL, number)

    async def load(self, number: str) -> SmsAccount:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(LEDGER).where(LEDGER.c.user_hash == self._hash(number))
                )
            ).first()
        if row is None:
            return SmsAccount()
        return SmsAccount(
            stopped=bool(row.stopped),
            language=row.language,
            day=row.day,
            segments=int(row.segments),
            cap_notified=bool(row.cap_notified),
            more=str(row.more or ""),
            more_preview=str(row.more_preview or ""),
        )

    async def save(self, number: str, account: SmsAccount) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                self._upsert,
                {
                    "user_hash": self._hash(number),
                    "stopped": account.stopped,
                    "language": account.language,
                    "day": account.day,
                    "segments": account.segments,
                    "cap_notified": account.cap_notified,
                    "more": account.more,
                    "more_preview": account.more_preview,
                    "updated_at": utcnow(),
                },
            )
