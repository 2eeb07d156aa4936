"""Subscribing by asking, picking topics, stopping, erasure and the privacy of the address."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.broadcast.flow import build_flow
from bot.content import FileContentStore
from bot.db import engine as db
from bot.db.models import Base, Subscriber
from bot.db.store import SqlStore
from bot.db.subscriptions import Subscriptions
from bot.dispatcher import Dispatcher
from bot.engine import build_dispatcher
from bot.privacy import Protector
from bot.settings import Settings
from tests.conftest import Conversation, ScriptedClassifier, engine_text

PHONE = "whatsapp:+50370009876"
CHAT_ID = "5550001"


def _engine(
    settings: Settings,
    store: SqlStore,
    content: FileContentStore,
    database: AsyncEngine,
    protector: Protector,
) -> Dispatcher:
    return build_dispatcher(
        settings,
        ScriptedClassifier(),
        store,
        content,
        text=engine_text(settings),
        alerts=build_flow(settings, content, database, protector),
    )


async def _scan(database: AsyncEngine, needles: list[str]) -> list[str]:
    found = []
    async with database.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in (await connection.execute(select(table))).all():
                for value in row:
                    if value is None:
                        continue
                    blob = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    found += [f"{table.name}:{n}" for n in needles if n in blob]
    return found


async def test_ask_pick_confirm_and_the_address_is_encrypted(
    settings: Settings,
    store: SqlStore,
    content: FileContentStore,
    database: AsyncEngine,
    protector: Protector,
) -> None:
    talk = Conversation(
        _engine(settings, store, content, database, protector), user_id=PHONE, channel="whatsapp"
    )
    prompt = await talk.say("Quiero recibir avisos")
    assert prompt.route == "alerts_prompt"
    labels = [b.label for b in prompt.replies[-1].buttons]
    assert labels[:2] == ["Cambios en EE. UU.", "Trabajo legal afuera"]
    assert labels[-1] == "Todos los temas"
    done = await talk.say("2")  # WhatsApp shows the buttons as numbers
    assert done.route == "alerts_done"
    confirmation = done.replies[-1].text
    assert "Trabajo legal afuera" in confirmation
    assert "Como máximo 2 mensajes por semana" in confirmation
    assert "cancelar avisos" in confirmation and "cifrada" in confirmation
    assert "180 días" in confirmation
    again = await talk.say(payload="alerts:route_safety")
    assert "Seguridad en la ruta" in again.replies[-1].text
    subscriptions = Subscriptions(database, protector)
    assert await subscriptions.topics_of("whatsapp", PHONE) == ["legal_work", "route_safety"]
    async with database.connect() as connection:
        sealed = (await connection.execute(select(Subscriber.address))).scalar_one()
    assert protector.open(sealed) == PHONE
    assert await _scan(database, [PHONE, "50370009876"]) == []


async def test_menu_button_and_english_all_topics(
    settings: Settings,
    store: SqlStore,
    content: FileContentStore,
    database: AsyncEngine,
    protector: Protector,
) -> None:
    talk = Conversation(
        _engine(settings, store, content, database, protector), user_id=CHAT_ID, channel="telegram"
    )
    prompt = await talk.say(payload="topic:alerts_subscribe")
    assert prompt.route == "alerts_prompt"
    await talk.say("stop alerts")  # moving on clears the pending choice
    prompt = await talk.say("get alerts")
    assert prompt.language == "en" and prompt.replies[-1].buttons[-1].label == "All topics"
    done = await talk.say(payload="alerts:all")
    assert "At most 2 messages a week" in done.replies[-1].text
    subscriptions = Subscriptions(database, protector)
    assert len(await subscriptions.topics_of("telegram", CHAT_ID)) == 4
    assert (await subscriptions.counts())["channel:telegram"] == 1


async def test_cancel_stop_and_erasure_remove_the_subscription(
    settings: Settings,
    store: SqlStore,
    content: FileContentStore,
    database: AsyncEngine,
    protector: Protector,
) -> None:
    engine = _engine(settings, store, content, database, protector)
    subscriptions = Subscriptions(database, protector)

    cancel = Conversation(engine, user_id="tg-1", channel="telegram")
    await cancel.say("suscribirme")
    await cancel.say("1")
    stopped = await cancel.say("Cancelar avisos")
    assert stopped.route == "alerts_stopped"
    assert await subscriptions.topics_of("telegram", "tg-1") == []

    stop = Conversation(engine, user_id=PHONE, channel="whatsapp")
    await stop.say("suscribirme")
    await stop.say("1")
    result = await stop.say("STOP")
    assert result.route == "opt_out"
    assert await subscriptions.topics_of("whatsapp", PHONE) == []

    erase = Conversation(engine, user_id=CHAT_ID, channel="telegram")
    await erase.say("suscribirme")
    await erase.say("5")
    assert len(await subscriptions.topics_of("telegram", CHAT_ID)) == 4
    await erase.say("borrar mis datos")
    assert (await erase.say("si")).route == "deleted"
    async with database.connect() as connection:
        subscribers = select(func.count()).select_from(Subscriber)
        assert (await connection.execute(subscribers)).scalar() == 0
        topics = text("SELECT count(*) FROM subscription_topics")
        assert (await connection.execute(topics)).scalar() == 0
    assert await _scan(database, [CHAT_ID, protector.user_hash("telegram", CHAT_ID)]) == []


async def test_web_chat_subscription_keeps_no_address(
    settings: Settings,
    store: SqlStore,
    content: FileContentStore,
    database: AsyncEngine,
    protector: Protector,
) -> None:
    talk = Conversation(
        _engine(settings, store, content, database, protector), user_id="page-1", channel="web"
    )
    await talk.say("avisos")
    await talk.say("3")
    async with db.sessions(database)() as session:
        subscriber = (await session.execute(select(Subscriber))).scalar_one()
    assert subscriber.address is None and subscriber.channel == "web"
