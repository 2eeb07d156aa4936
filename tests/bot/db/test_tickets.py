"""Handoff tickets (bot/db/tickets.py), on both databases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content import FileContentStore
from bot.db import engine as db
from bot.db.models import HandoffTicket
from bot.db.store import SqlStore
from bot.settings import Settings
from tests.bot.db.people import PHONE, dispatcher_for
from tests.conftest import Conversation, ScriptedClassifier


async def test_handoff_address_is_encrypted_and_dropped_on_close(
    settings: Settings, store: SqlStore, database: AsyncEngine, protector, content: FileContentStore
) -> None:  # type: ignore[no-untyped-def]
    classifier = ScriptedClassifier()
    talk = Conversation(
        dispatcher_for(settings, store, classifier, content), user_id=PHONE, channel="whatsapp"
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
