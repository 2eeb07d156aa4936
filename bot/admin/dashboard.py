"""Figures for the dashboard: what people ask, how the bot copes, how fast staff answer.

Recent days come from the message log; days past retention from the anonymous
daily counts, so the figures survive the purge.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import DailyCount, HandoffTicket, Message

UNANSWERED_ROUTES = frozenset({"fallback", "unknown_words"})


@dataclass
class Stats:
    days: list[dt.date]
    by_day_channel: dict[dt.date, Counter[str]] = field(default_factory=dict)
    by_day_language: dict[dt.date, Counter[str]] = field(default_factory=dict)
    top_intents: list[tuple[str, int]] = field(default_factory=list)
    inbound: int = 0
    fallback: int = 0
    opened: Counter[dt.date] = field(default_factory=Counter)
    closed: Counter[dt.date] = field(default_factory=Counter)
    first_response_minutes: list[float] = field(default_factory=list)

    @property
    def fallback_rate(self) -> float:
        return self.fallback / self.inbound if self.inbound else 0.0

    @property
    def median_first_response(self) -> float | None:
        values = self.first_response_minutes
        return statistics.median(values) if values else None

    def per_day(self) -> list[tuple[dt.date, int]]:
        return [(day, sum(self.by_day_channel.get(day, Counter()).values())) for day in self.days]

    def channels(self) -> list[str]:
        return sorted({c for counter in self.by_day_channel.values() for c in counter})

    def languages(self) -> list[str]:
        return sorted({c for counter in self.by_day_language.values() for c in counter})

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["metric", "day", "key", "value"])
        for day in self.days:
            for channel, n in sorted(self.by_day_channel.get(day, Counter()).items()):
                writer.writerow(["messages_by_channel", day.isoformat(), channel, n])
            for language, n in sorted(self.by_day_language.get(day, Counter()).items()):
                writer.writerow(["messages_by_language", day.isoformat(), language, n])
            writer.writerow(["tickets_opened", day.isoformat(), "", self.opened[day]])
            writer.writerow(["tickets_closed", day.isoformat(), "", self.closed[day]])
        for intent, n in self.top_intents:
            writer.writerow(["top_intent", "", intent, n])
        writer.writerow(["fallback_rate", "", "", f"{self.fallback_rate:.4f}"])
        median = self.median_first_response
        writer.writerow(
            ["median_first_response_minutes", "", "", "" if median is None else f"{median:.1f}"]
        )
        return out.getvalue()


async def compute(
    sessions: async_sessionmaker[AsyncSession], days: int = 7, today: dt.date | None = None
) -> Stats:
    today = today or dt.date.today()
    first = today - dt.timedelta(days=days - 1)
    stats = Stats(days=[first + dt.timedelta(days=i) for i in range(days)])
    start = dt.datetime.combine(first, dt.time())
    channel_counts: dict[dt.date, Counter[str]] = defaultdict(Counter)
    language_counts: dict[dt.date, Counter[str]] = defaultdict(Counter)
    intents: Counter[str] = Counter()
    async with sessions() as session:
        messages = await session.execute(
            select(
                Message.created_at, Message.channel, Message.language, Message.intent, Message.route
            ).where(Message.direction == "in", Message.created_at >= start)
        )
        for created, channel, language, intent, route in messages.all():
            day = created.date()
            if day > today:
                continue
            channel_counts[day][channel] += 1
            language_counts[day][language or "?"] += 1
            stats.inbound += 1
            stats.fallback += route in UNANSWERED_ROUTES
            if intent:
                intents[intent] += 1
        counts = await session.execute(
            select(DailyCount).where(
                DailyCount.direction == "in", DailyCount.day >= first, DailyCount.day <= today
            )
        )
        for row in counts.scalars():
            channel_counts[row.day][row.channel] += row.count
            language_counts[row.day][row.language or "?"] += row.count
            stats.inbound += row.count
            stats.fallback += row.count if row.route in UNANSWERED_ROUTES else 0
            if row.intent:
                intents[row.intent] += row.count
        tickets = await session.execute(
            select(HandoffTicket).where(HandoffTicket.created_at >= start)
        )
        for ticket in tickets.scalars():
            stats.opened[ticket.created_at.date()] += 1
            if ticket.closed_at is not None:
                stats.closed[ticket.closed_at.date()] += 1
            if ticket.first_response_at is not None:
                delta = ticket.first_response_at - ticket.created_at
                stats.first_response_minutes.append(delta.total_seconds() / 60)
    stats.by_day_channel = dict(channel_counts)
    stats.by_day_language = dict(language_counts)
    stats.top_intents = intents.most_common(10)
    return stats
