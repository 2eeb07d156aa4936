"""The copies of a person's words outside the message log, and making deletions stick.

Staff may turn what someone wrote into a training example or a test question,
and older releases copied such texts into the audit log. Erasing a person (or
purging old messages) removes those verbatim copies too; a copy that staff
rewrote in their own words is theirs and stays. Test questions that ship with
`content/` are never touched.

On SQLite, `secure_delete` (set on every connection) overwrites deleted rows
with zeros, and a WAL checkpoint afterwards moves the change into the database
file and empties the write-ahead log, so an erased text is not left readable in
either file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import AuditEvent, TestQuestion, TrainingExample

CHUNK = 500
AUDIT_EXCERPT = 200  # older releases kept the first 200 characters in audit details
SHIPPED_BY = "content"  # test questions that come with content/


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _variants(texts: Iterable[str]) -> list[str]:
    found: set[str] = set()
    for text in texts:
        for variant in (text, text.strip()):
            if variant:
                found.update({variant, variant[:AUDIT_EXCERPT]})
    return sorted(found)


async def erase_copies(session: AsyncSession, texts: Iterable[str]) -> None:
    """Delete training examples and staff-added test questions that repeat these texts,
    and blank audit details that quote them."""
    for chunk in _chunks(_variants(texts)):
        await session.execute(delete(TrainingExample).where(TrainingExample.text.in_(chunk)))
        await session.execute(
            delete(TestQuestion).where(
                TestQuestion.text.in_(chunk), TestQuestion.created_by != SHIPPED_BY
            )
        )
        await session.execute(
            update(AuditEvent).where(AuditEvent.detail.in_(chunk)).values(detail="")
        )


async def checkpoint(sessions: async_sessionmaker[AsyncSession]) -> None:
    """SQLite only: write the WAL into the database file and truncate it."""
    async with sessions() as session:
        connection = await session.connection()
        if connection.dialect.name == "sqlite":
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
