"""State, idempotency and the message log (bot/db/state_log.py), on both databases."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content import FileContentStore
from bot.db import engine as db
from bot.db.models import HandoffTicket, Message, User
from bot.db.store import SqlStore
from bot.settings import Settings
from kernel.types import EngineResult, IncomingMessage, UserState
from tests.bot.db.people import CHAT_ID, PHONE, dispatcher_for, scan_for
from tests.conftest import Conversation, ScriptedClassifier


async def test_conversation_is_stored_and_read_back(
    settings: Settings, store: SqlStore, database: AsyncEngine, content: FileContentStore
) -> None:
    classifier = ScriptedClassifier()
    classifier.say("english please", "change_language")
    classifier.say("where do I get a passport", "documents")
    talk = Conversation(
        dispatcher_for(settings, store, classifier, content), user_id=CHAT_ID, channel="telegram"
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


async def test_no_column_holds_the_plain_phone_number_or_chat_id(
    settings: Settings, store: SqlStore, database: AsyncEngine, content: FileContentStore
) -> None:
    classifier = ScriptedClassifier()
    classifier.say("quiero hablar con alguien", "talk_to_human")
    engine = dispatcher_for(settings, store, classifier, content)
    for user, channel in ((PHONE, "whatsapp"), (CHAT_ID, "telegram")):
        talk = Conversation(engine, user_id=user, channel=channel)
        await talk.say("hola")
        await talk.say("quiero hablar con alguien")
    async with db.sessions(database)() as session:
        assert (
            await session.execute(select(func.count()).select_from(HandoffTicket))
        ).scalar() == 2
    assert await scan_for(database, [PHONE, "50370001234", "70001234", CHAT_ID]) == []


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
