"""The dashboard's figures for a seeded week, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.admin import dashboard
from bot.db import engine as db
from bot.db.models import Conversation, DailyCount, HandoffTicket, Message, User

TODAY = dt.date(2026, 11, 23)


async def test_a_seeded_week(database: AsyncEngine) -> None:
    sessions = db.sessions(database)
    async with sessions.begin() as session:
        user = User(channel="telegram", user_hash="h" * 64)
        session.add(user)
        await session.flush()
        conversation = Conversation(user_id=user.id, channel="telegram")
        session.add(conversation)
        await session.flush()

        def message(
            day: int, channel: str, language: str, intent: str | None, route: str
        ) -> Message:
            at = dt.datetime.combine(TODAY - dt.timedelta(days=day), dt.time(12))
            return Message(
                conversation_id=conversation.id,
                user_id=user.id,
                channel=channel,
                direction="in",
                text="x",
                language=language,
                intent=intent,
                route=route,
                created_at=at,
            )

        session.add_all(
            [
                message(0, "telegram", "es", "documents", "answer"),
                message(0, "telegram", "es", "documents", "answer"),
                message(0, "whatsapp", "en", "asylum", "answer"),
                message(1, "whatsapp", "es", None, "fallback"),
                message(1, "web", "es", "documents", "answer"),
                message(9, "web", "es", "documents", "answer"),  # outside the week
            ]
        )
        # A purged day: only anonymous counts remain.
        session.add(
            DailyCount(
                day=TODAY - dt.timedelta(days=5),
                channel="whatsapp",
                language="es",
                direction="in",
                intent="reintegration",
                route="answer",
                count=4,
            )
        )
        opened = dt.datetime.combine(TODAY - dt.timedelta(days=1), dt.time(9))
        session.add(
            HandoffTicket(
                user_id=user.id,
                channel="telegram",
                reference="AAA111",
                status="closed",
                urgency="critical",
                reason="trafficking_emergency",
                created_at=opened,
                first_response_at=opened + dt.timedelta(minutes=12),
                closed_at=opened + dt.timedelta(hours=2),
            )
        )
        session.add(
            HandoffTicket(
                user_id=user.id,
                channel="telegram",
                reference="BBB222",
                status="open",
                urgency="normal",
                reason="talk_to_human",
                created_at=opened + dt.timedelta(hours=1),
                first_response_at=opened + dt.timedelta(hours=1, minutes=30),
            )
        )

    stats = await dashboard.compute(sessions, days=7, today=TODAY)
    assert dict(stats.per_day())[TODAY] == 3
    assert dict(stats.per_day())[TODAY - dt.timedelta(days=1)] == 2
    assert dict(stats.per_day())[TODAY - dt.timedelta(days=5)] == 4
    assert stats.by_day_channel[TODAY]["telegram"] == 2
    assert stats.by_day_language[TODAY]["en"] == 1
    assert stats.inbound == 9
    assert stats.fallback == 1
    assert abs(stats.fallback_rate - 1 / 9) < 1e-9
    assert stats.top_intents[:2] == [("reintegration", 4), ("documents", 3)]
    assert stats.opened[TODAY - dt.timedelta(days=1)] == 2
    assert stats.closed[TODAY - dt.timedelta(days=1)] == 1
    assert stats.median_first_response == 21.0  # minutes: median of 12 and 30
    csv = stats.to_csv()
    assert "fallback_rate,,,0.1111" in csv
    assert f"messages_by_channel,{TODAY.isoformat()},telegram,2" in csv
