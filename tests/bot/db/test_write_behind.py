"""Write-behind: replies do not wait for the log, yet nothing is lost or seen stale."""

from __future__ import annotations

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
from tests.conftest import Conversation, ScriptedClassifier


async def test_state_is_fresh_and_everything_is_written(
    settings: Settings, store: SqlStore, database: AsyncEngine, content: FileContentStore
) -> None:
    metrics = Metrics()
    states = WriteBehindStore(store, metrics)
    classifier = ScriptedClassifier()
    classifier.say("hola", "greet")
    engine = build_dispatcher(settings, classifier, states, content, metrics)
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
    talk = Conversation(build_dispatcher(settings, classifier, states, content), user_id="gone")
    await talk.say("hola")
    await talk.say("borrar mis datos")
    await talk.say("si")
    await states.aclose()
    async with db.sessions(database)() as session:
        users = (await session.execute(select(func.count()).select_from(User))).scalar()
        messages = (await session.execute(select(func.count()).select_from(Message))).scalar()
    assert users == 0 and messages == 0
