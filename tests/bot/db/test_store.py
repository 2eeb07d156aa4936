"""The data layer on SQLite and PostgreSQL.

Migrations, conversations, erasure, retention and privacy, each on both databases.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content import FileContentStore
from bot.db import engine as db
from bot.db.models import Base, DailyCount, HandoffTicket, Message, User, WebOutboxMessage
from bot.db.store import SqlStore
from bot.db.web_outbox import WebOutbox
from bot.engine import build_dispatcher
from bot.privacy import Protector
from bot.settings import Settings
from kernel.types import EngineResult, IncomingMessage, Reply, UserState
from tests.conftest import Conversation, ScriptedClassifier

PHONE = "whatsapp:+50370001234"
CHAT_ID = "987654321"


def test_migrations_go_up_and_down(database_url: str) -> None:
    db.upgrade(database_url)
    engine = db.make_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
        assert set(Base.metadata.tables) <= tables
        db.downgrade(database_url, "base")
        with engine.connect() as connection:
            left = set(inspect(connection).get_table_names()) - {"alembic_version"}
        assert left.isdisjoint(Base.metadata.tables)
        db.upgrade(database_url)
    finally:
        engine.dispose()


def _engine(
    settings: Settings, store: SqlStore, classifier: ScriptedClassifier, content: FileContentStore
):  # type: ignore[no-untyped-def]
    return build_dispatcher(settings, classifier, store, content)


async def test_conversation_is_stored_and_read_back(
    settings: Settings, store: SqlStore, database: AsyncEngine, content: FileContentStore
) -> None:
    classifier = ScriptedClassifier()
    classifier.say("english please", "change_language")
    classifier.say("where do I get a passport", "documents")
    talk = Conversation(
        _engine(settings, store, classifier, content), user_id=CHAT_ID, channel="telegram"
    )
    await talk.say("english please")
    await talk.say("where do I get a passport")
    state = await store.load("telegram", CHAT_ID)
    assert state.language == "en" and state.language_locked and state.privacy_notice_shown
    async with db.sessions(database)() as session:
        rows = (await session.execute(select(Message).order_by(Message.id))).scalars().all()
    inbound = [(m.text, m.intent) for m in rows if m.direction == "in"]
    assert inbound == [
        ("english please", "change_language"),
        ("where do I get a passport", "documents"),
    ]
    assert "documents" in [m.answer_key for m in rows if m.direction == "out"]


async def test_same_message_id_is_processed_once(store: SqlStore) -> None:
    assert await store.first_time_seen("telegram", "update-1")
    assert not await store.first_time_seen("telegram", "update-1")
    assert await store.first_time_seen("whatsapp", "update-1")


async def _scan_for(database: AsyncEngine, needles: list[str]) -> list[str]:
    """Every text-like value of every row of every table that contains one of the needles."""
    found: list[str] = []
    async with database.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in (await connection.execute(table.select())).all():
                for column, value in zip(table.columns, row, strict=True):
                    blob = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    found += [f"{table.name}.{column.name}" for n in needles if n in blob]
    return found


async def test_no_column_holds_the_plain_phone_number_or_chat_id(
    settings: Settings, store: SqlStore, database: AsyncEngine, content: FileContentStore
) -> None:
    classifier = ScriptedClassifier()
    classifier.say("quiero hablar con alguien", "talk_to_human")
    engine = _engine(settings, store, classifier, content)
    for user, channel in ((PHONE, "whatsapp"), (CHAT_ID, "telegram")):
        talk = Conversation(engine, user_id=user, channel=channel)
        await talk.say("hola")
        await talk.say("quiero hablar con alguien")
    async with db.sessions(database)() as session:
        assert (
            await session.execute(select(func.count()).select_from(HandoffTicket))
        ).scalar() == 2
    assert await _scan_for(database, [PHONE, "50370001234", "70001234", CHAT_ID]) == []


async def test_handoff_address_is_encrypted_and_dropped_on_close(
    settings: Settings, store: SqlStore, database: AsyncEngine, protector, content: FileContentStore
) -> None:  # type: ignore[no-untyped-def]
    classifier = ScriptedClassifier()
    talk = Conversation(
        _engine(settings, store, classifier, content), user_id=PHONE, channel="whatsapp"
    )
    await talk.say(content.danger_phrases().emergency[0])
    reference = await store.open_ticket_reference("whatsapp", PHONE)
    assert reference
    async with db.sessions(database)() as session:
        ticket = (await session.execute(select(HandoffTicket))).scalar_one()
    assert ticket.urgency == "critical"
    assert ticket.reply_address is not None and protector.open(ticket.reply_address) == PHONE
    await store.close_handoff(reference, "referred")
    async with db.sessions(database)() as session:
        ticket = (await session.execute(select(HandoffTicket))).scalar_one()
    assert ticket.status == "closed" and ticket.reply_address is None


async def test_delete_my_data_leaves_no_row_that_refers_to_the_user(
    settings: Settings, store: SqlStore, database: AsyncEngine, protector, content: FileContentStore
) -> None:  # type: ignore[no-untyped-def]
    classifier = ScriptedClassifier()
    classifier.say("quiero hablar con alguien", "talk_to_human")
    engine = _engine(settings, store, classifier, content)
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
    assert await _scan_for(database, [gone_hash, CHAT_ID]) == []


async def test_purge_removes_old_texts_and_keeps_counts(
    settings: Settings, store: SqlStore, database: AsyncEngine, content: FileContentStore
) -> None:
    classifier = ScriptedClassifier()
    classifier.say("necesito pasaporte", "documents")
    talk = Conversation(
        _engine(settings, store, classifier, content), user_id=CHAT_ID, channel="telegram"
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


async def test_eight_concurrent_writers_lose_nothing(
    store: SqlStore, database: AsyncEngine
) -> None:
    import asyncio

    from kernel.types import EngineResult, IncomingMessage, Reply

    per_writer = 250

    async def writer(number: int) -> None:
        for i in range(per_writer):
            # Two writers per person: the same user may arrive on two workers at once.
            message = IncomingMessage(channel="web", user_id=f"writer-{number % 4}", text=f"m{i}")
            result = EngineResult(replies=[], language="es", intent="greet", route="answer")
            if i % 50 == 0:
                result.replies.append(Reply("ok", content_key="greet"))
            await store.record(message, UserState(), result)

    await asyncio.gather(*(writer(n) for n in range(8)))
    async with db.sessions(database)() as session:
        inbound = (
            await session.execute(
                select(func.count()).select_from(Message).where(Message.direction == "in")
            )
        ).scalar()
        users = (await session.execute(select(func.count()).select_from(User))).scalar()
    assert inbound == 8 * per_writer == 2000
    assert users == 4


async def test_concurrent_retries_of_one_message_are_answered_once(store: SqlStore) -> None:
    """Checks arriving together share one statement; a retry in the same batch is no first."""
    ids = [f"burst-{n % 20}" for n in range(100)]  # every id five times, all at once
    answers = await asyncio.gather(*(store.first_time_seen("whatsapp", i) for i in ids))
    assert sum(answers) == 20
    assert {i for i, first in zip(ids, answers, strict=True) if first} == set(ids)
    assert not any(await asyncio.gather(*(store.first_time_seen("whatsapp", i) for i in ids)))


async def test_states_loaded_together_each_get_their_own(store: SqlStore) -> None:
    people = [f"+50370000{n:03d}" for n in range(30)]
    for n, person in enumerate(people[:10]):
        await store.record(
            IncomingMessage(channel="whatsapp", user_id=person, text="hola"),
            UserState(language="en" if n % 2 else "es"),
            EngineResult(replies=[], language="es", route="answer"),
        )
    states = await asyncio.gather(*(store.load("whatsapp", p) for p in people))
    assert [s.language for s in states[:10]] == ["es", "en"] * 5
    assert all(s == UserState() for s in states[10:])
    states[0].last_options.append("menu")  # each caller owns its copy
    assert (await store.load("whatsapp", people[0])).last_options == []


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
