"""Erasure on request and the retention purge (bot/db/retention.py), on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content import FileContentStore
from bot.db import engine as db
from bot.db.models import Base, DailyCount, Message, User, WebOutboxMessage
from bot.db.store import SqlStore
from bot.db.web_outbox import WebOutbox
from bot.privacy import Protector
from bot.settings import Settings
from kernel.types import Reply
from tests.bot.db.people import CHAT_ID, dispatcher_for, scan_for
from tests.conftest import Conversation, ScriptedClassifier


async def test_delete_my_data_leaves_no_row_that_refers_to_the_user(
    settings: Settings, store: SqlStore, database: AsyncEngine, protector, content: FileContentStore
) -> None:  # type: ignore[no-untyped-def]
    classifier = ScriptedClassifier()
    classifier.say("quiero hablar con alguien", "talk_to_human")
    engine = dispatcher_for(settings, store, classifier, content)
    other = Conversation(engine, user_id="other-user", channel="telegram")
    await other.say("hola")
    talk = Conversation(engine, user_id=CHAT_ID, channel="telegram")
    await talk.say("hola")
    await talk.say("quiero hablar con alguien")
    await talk.say("borrar mis datos")
    done = await talk.say("si")
    assert done.replies[-1].content_key == "delete_done"

    gone_hash = protector.user_hash("telegram", CHAT_ID)
    async with database.connect() as connection:
        user_ids = {
            r[0] for r in (await connection.execute(text("SELECT id, user_hash FROM users"))).all()
        }
        hashes = {
            r[0] for r in (await connection.execute(text("SELECT user_hash FROM users"))).all()
        }
        assert gone_hash not in hashes and len(hashes) == 1
        for table in Base.metadata.sorted_tables:
            if "user_id" in table.columns:
                refs = {r[0] for r in (await connection.execute(select(table.c.user_id))).all()}
                assert refs <= user_ids, table.name
    assert await scan_for(database, [gone_hash, CHAT_ID]) == []


async def test_purge_removes_old_texts_and_keeps_counts(
    settings: Settings, store: SqlStore, database: AsyncEngine, content: FileContentStore
) -> None:
    classifier = ScriptedClassifier()
    classifier.say("necesito pasaporte", "documents")
    talk = Conversation(
        dispatcher_for(settings, store, classifier, content), user_id=CHAT_ID, channel="telegram"
    )
    await talk.say("necesito pasaporte")
    await talk.say("necesito pasaporte")
    sessions = db.sessions(database)
    async with sessions.begin() as session:
        first = (await session.execute(select(Message).order_by(Message.id))).scalars().all()
        old = dt.datetime(2026, 1, 10, 12, 0)
        for message in first:
            message.created_at = old
    await talk.say("necesito pasaporte")  # a recent one, kept
    result = await store.purge(30, now=dt.datetime(2026, 11, 23))
    assert result.messages_deleted == len(first)
    async with sessions() as session:
        remaining = (await session.execute(select(Message))).scalars().all()
        counts = (await session.execute(select(DailyCount))).scalars().all()
    assert remaining and all(m.created_at > old for m in remaining)
    inbound = [c for c in counts if c.direction == "in" and c.intent == "documents"]
    assert [(c.day, c.count, c.channel) for c in inbound] == [(dt.date(2026, 1, 10), 2, "telegram")]
    assert not any(hasattr(c, "text") for c in counts)
    again = await store.purge(30, now=dt.datetime(2026, 11, 23))
    assert again.messages_deleted == 0
    async with sessions() as session:
        users = (await session.execute(select(func.count()).select_from(User))).scalar()
    assert users == 1


async def test_purge_removes_staff_replies_nobody_collected(
    store: SqlStore, database: AsyncEngine, protector: Protector
) -> None:
    outbox = WebOutbox(database, protector)
    await outbox.deliver("web-old", [Reply("Respuesta que nadie recogio")])
    async with database.begin() as connection:
        await connection.execute(
            update(WebOutboxMessage).values(created_at=dt.datetime(2026, 1, 10, 12, 0))
        )
    await outbox.deliver("web-new", [Reply("Respuesta reciente")])
    await store.purge(30, now=dt.datetime(2026, 11, 23))
    assert await outbox.pending("web-old") == []
    assert [text for _, text in await outbox.pending("web-new")] == ["Respuesta reciente"]
