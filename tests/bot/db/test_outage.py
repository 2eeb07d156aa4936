"""PostgreSQL unreachable for ten seconds in the middle of traffic, then back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.content import FileContentStore
from bot.db import engine as db
from bot.db.models import Message
from bot.db.store import SqlStore
from bot.db.write_behind import WriteBehindStore
from bot.engine import build_dispatcher
from bot.metrics import Metrics
from bot.privacy import Protector
from bot.settings import Settings
from handlers.answers import answer
from kernel.types import IncomingMessage
from tests.conftest import ScriptedClassifier, engine_text
from tests.fakes.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow  # an outage held for ten seconds

OUTAGE_SECONDS = 10


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.up()
    yield proxy
    await proxy.down()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_ten_second_database_outage_loses_nothing(
    settings: Settings, content: FileContentStore, database_url: str, proxy: TcpProxy
) -> None:
    db.upgrade(database_url)
    through_proxy = make_url(database_url).set(port=proxy.port)
    engine = db.make_async_engine(through_proxy.render_as_string(hide_password=False))
    metrics = Metrics()
    states = WriteBehindStore(SqlStore(db.sessions(engine), Protector("o" * 48)), metrics)
    classifier = ScriptedClassifier()
    classifier.say("necesito el pasaporte", "documents")
    dispatcher = build_dispatcher(
        settings, classifier, states, content, metrics, text=engine_text(settings)
    )
    documents = answer(content, "es", "documents").text
    sent = 0

    async def ask(n: int) -> None:
        nonlocal sent
        result = await dispatcher.handle(
            IncomingMessage(
                channel="whatsapp",
                user_id=f"+5037000{n:04d}",
                text="necesito el pasaporte",
                message_id=f"SM{n}",
            )
        )
        sent += 1
        assert result.replies[-1].text == documents  # answered, database or not

    for n in range(5):
        await ask(n)
    await states.flush()

    await proxy.down()
    for second in range(OUTAGE_SECONDS):
        await asyncio.gather(*(ask(100 + second * 3 + i) for i in range(3)))
        await asyncio.sleep(1)
    assert metrics.value("ventanilla_store_errors_total", operation="dedupe") > 0
    await proxy.up()

    for n in range(200, 205):
        await ask(n)
    await states.aclose()

    async with engine.connect() as connection:
        stored = (
            await connection.execute(
                select(func.count()).select_from(Message).where(Message.direction == "in")
            )
        ).scalar()
    await engine.dispose()
    assert sent == 5 + 3 * OUTAGE_SECONDS + 5
    # Writes made during the outage were retried until the database came back.
    assert stored == sent
    assert metrics.value("ventanilla_dropped_writes_total") == 0
    assert metrics.value("ventanilla_write_retries_total") > 0
