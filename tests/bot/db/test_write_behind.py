"""Write-behind: replies do not wait for the log, yet nothing is lost or seen stale."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content import FileContentStore
from bot.db import engine as db
from bot.db.models import Message, User
from bot.db.store import SqlStore
from bot.db.write_behind import WriteBehindStore
from bot.engine import build_dispatcher
from bot.metrics import Metrics
from bot.settings import Settings
from kernel.types import EngineResult, IncomingMessage, UserState
from tests.conftest import Conversation, ScriptedClassifier, engine_text


async def test_state_is_fresh_and_everything_is_written(
    settings: Settings, store: SqlStore, database: AsyncEngine, content: FileContentStore
) -> None:
    metrics = Metrics()
    states = WriteBehindStore(store, metrics)
    classifier = ScriptedClassifier()
    classifier.say("hola", "greet")
    engine = build_dispatcher(
        settings, classifier, states, content, metrics, text=engine_text(settings)
    )
    talk = Conversation(engine, user_id="wb-user")
    greeting = await talk.say("hola")
    second = greeting.replies[-1].buttons[1].payload.removeprefix("topic:")
    picked = await talk.say("2")  # needs the options saved a moment ago
    assert picked.replies[-1].content_key == second
    for n in range(30):
        await Conversation(engine, user_id=f"other-{n}").say("hola")
    await states.aclose()
    async with db.sessions(database)() as session:
        inbound = (
            await session.execute(
                select(func.count()).select_from(Message).where(Message.direction == "in")
            )
        ).scalar()
        users = (await session.execute(select(func.count()).select_from(User))).scalar()
    assert inbound == 32 and users == 31
    assert metrics.value("ventanilla_dropped_writes_total") == 0


async def test_erasure_waits_for_queued_writes(
    settings: Settings, store: SqlStore, database: AsyncEngine, content: FileContentStore
) -> None:
    states = WriteBehindStore(store, Metrics())
    classifier = ScriptedClassifier()
    classifier.say("hola", "greet")
    talk = Conversation(
        build_dispatcher(settings, classifier, states, content, text=engine_text(settings)),
        user_id="gone",
    )
    await talk.say("hola")
    await talk.say("borrar mis datos")
    await talk.say("si")
    await states.aclose()
    async with db.sessions(database)() as session:
        users = (await session.execute(select(func.count()).select_from(User))).scalar()
        messages = (await session.execute(select(func.count()).select_from(Message))).scalar()
    assert users == 0 and messages == 0


async def _inbound_texts(database: AsyncEngine) -> list[str]:
    async with database.connect() as connection:
        rows = await connection.execute(
            select(Message.text).where(Message.direction == "in").order_by(Message.id)
        )
        return [str(text) for (text,) in rows]


async def test_binary_junk_does_not_fail_the_batch_it_is_written_with(
    settings: Settings, store: SqlStore, database: AsyncEngine, content: FileContentStore
) -> None:
    """A NUL byte (PostgreSQL refuses it) or an unpaired surrogate once dropped everyone's."""
    metrics = Metrics()
    states = WriteBehindStore(store, metrics)
    engine = build_dispatcher(
        settings, ScriptedClassifier(), states, content, metrics, text=engine_text(settings)
    )
    texts = ["hola", "\x00\x01\x02 binario", "mal \ud800 texto", "gracias"]
    for n, text in enumerate(texts):
        reply = await Conversation(engine, user_id=f"junk-{n}").say(text)
        assert reply.replies  # every one of them was answered
    await states.aclose()
    stored = await _inbound_texts(database)
    assert len(stored) == len(texts)
    assert not any("\x00" in t for t in stored)
    assert metrics.value("ventanilla_dropped_writes_total") == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_an_exchange_the_database_refuses_is_dropped_alone(
    store: SqlStore, database: AsyncEngine
) -> None:
    metrics = Metrics()
    states = WriteBehindStore(store, metrics)
    for n in range(5):  # queued together, so written as one batch
        user = f"+5037000000{n}"
        # A route longer than its column: PostgreSQL refuses the row outright.
        route = "x" * 40 if n == 2 else "answer"
        await states.record(
            IncomingMessage(channel="whatsapp", user_id=user, text=f"mensaje {n}"),
            UserState(),
            EngineResult(replies=[], language="es", route=route),
        )
    await states.aclose()
    assert await _inbound_texts(database) == ["mensaje 0", "mensaje 1", "mensaje 3", "mensaje 4"]
    assert metrics.value("ventanilla_dropped_writes_total") == 1
