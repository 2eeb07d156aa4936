"""Forgetting a person on request, and the retention purge of everything past its time.

Both delete across every table that can refer to a person (message log, tickets,
web chat outbox, alert subscriptions, SMS ledger, sent chat ids) and the verbatim
copies of their words staff made (`bot.db.erasure`); the purge first folds old
messages into anonymous daily counts so the figures outlive the texts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.erasure import checkpoint, erase_copies
from bot.db.models import (
    ChatMessageId,
    Conversation,
    DailyCount,
    HandoffTicket,
    Message,
    ProcessedMessage,
    SmsLedger,
    Subscriber,
    SubscriptionTopic,
    User,
    WebOutboxMessage,
    utcnow,
)
from bot.db.people import find_user
from bot.privacy import Protector

CHAT_IDS_USEFUL_FOR = dt.timedelta(hours=48)

# One anonymous daily count: day, channel, language, direction, intent or answer, route.
CountKey = tuple[dt.date, str, str, str, str, str]


@dataclass(frozen=True)
class PurgeResult:
    messages_deleted: int
    counted_days: int
    processed_ids_deleted: int


class Retention:
    """Erasure of one person and the purge of old data: the two ways rows leave the store."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], protector: Protector) -> None:
        self._sessions = sessions
        self._protector = protector

    async def forget(self, channel: str, user_id: str) -> None:
        try:
            async with self._sessions.begin() as session:
                await self._forget_in(session, channel, user_id)
        finally:
            await checkpoint(self._sessions)  # also when nothing but the outbox was kept

    async def _forget_in(self, session: AsyncSession, channel: str, user_id: str) -> None:
        user_hash = self._protector.user_hash(channel, user_id)
        await session.execute(
            delete(WebOutboxMessage).where(WebOutboxMessage.user_hash == user_hash)
        )
        # Alert subscriptions and their encrypted address (bot/db/subscriptions.py).
        subscribers = select(Subscriber.id).where(
            Subscriber.channel == channel, Subscriber.user_hash == user_hash
        )
        await session.execute(
            delete(SubscriptionTopic).where(SubscriptionTopic.subscriber_id.in_(subscribers))
        )
        await session.execute(
            delete(Subscriber).where(
                Subscriber.channel == channel, Subscriber.user_hash == user_hash
            )
        )
        await session.execute(delete(SmsLedger).where(SmsLedger.user_hash == user_hash))
        await session.execute(delete(ChatMessageId).where(ChatMessageId.user_hash == user_hash))
        user = await find_user(session, self._protector, channel, user_id)
        if user is None:
            return
        texts = await session.execute(
            select(Message.text).where(
                Message.user_id == user.id,
                Message.direction == "in",
                Message.text.is_not(None),
            )
        )
        await erase_copies(session, (str(t) for t in texts.scalars()))
        # Explicit deletes in dependency order: SQLite enforces cascades only with the pragma.
        await session.execute(delete(Message).where(Message.user_id == user.id))
        await session.execute(delete(HandoffTicket).where(HandoffTicket.user_id == user.id))
        await session.execute(delete(Conversation).where(Conversation.user_id == user.id))
        await session.execute(delete(User).where(User.id == user.id))

    async def purge(self, retention_days: int, now: dt.datetime | None = None) -> PurgeResult:
        """Fold messages past retention into anonymous daily counts, then delete them."""
        now = now or utcnow()
        cutoff = now - dt.timedelta(days=retention_days)
        async with self._sessions.begin() as session:
            days = await _fold_into_daily_counts(session, cutoff)
            old_texts = await session.execute(
                select(Message.text).where(
                    Message.created_at < cutoff,
                    Message.direction == "in",
                    Message.text.is_not(None),
                )
            )
            await erase_copies(session, (str(t) for t in old_texts.scalars()))
            await session.execute(
                update(HandoffTicket)
                .where(HandoffTicket.status == "closed", HandoffTicket.closed_at < cutoff)
                .values(notes=None)
            )
            deleted = await session.execute(delete(Message).where(Message.created_at < cutoff))
            processed = await session.execute(
                delete(ProcessedMessage).where(ProcessedMessage.created_at < cutoff)
            )
            await _delete_expired_side_tables(session, cutoff, now)
        await checkpoint(self._sessions)
        return PurgeResult(
            messages_deleted=int(getattr(deleted, "rowcount", 0) or 0),
            counted_days=days,
            processed_ids_deleted=int(getattr(processed, "rowcount", 0) or 0),
        )


async def _fold_into_daily_counts(session: AsyncSession, cutoff: dt.datetime) -> int:
    """Add the messages before `cutoff` to the daily counts; returns how many days they span."""
    rows = await session.execute(
        select(
            Message.created_at,
            Message.channel,
            Message.language,
            Message.direction,
            Message.intent,
            Message.answer_key,
            Message.route,
        ).where(Message.created_at < cutoff)
    )
    grouped: Counter[CountKey] = Counter(
        (when.date(), channel, language or "", direction, intent or answer or "", route or "")
        for when, channel, language, direction, intent, answer, route in rows.all()
    )
    for key, count in grouped.items():
        await _add_to_daily_count(session, key, count)
    return len({key[0] for key in grouped})


async def _add_to_daily_count(session: AsyncSession, key: CountKey, count: int) -> None:
    day, channel, language, direction, intent, route = key
    existing = (
        await session.execute(
            select(DailyCount).where(
                DailyCount.day == day,
                DailyCount.channel == channel,
                DailyCount.language == language,
                DailyCount.direction == direction,
                DailyCount.intent == intent,
                DailyCount.route == route,
            )
        )
    ).scalar_one_or_none()
    if existing is None:
        session.add(
            DailyCount(
                day=day,
                channel=channel,
                language=language,
                direction=direction,
                intent=intent,
                route=route,
                count=count,
            )
        )
    else:
        existing.count += count


async def _delete_expired_side_tables(
    session: AsyncSession, cutoff: dt.datetime, now: dt.datetime
) -> None:
    """What lives beside the message log: outbox, sent chat ids, SMS ledger, empty conversations."""
    await session.execute(delete(WebOutboxMessage).where(WebOutboxMessage.created_at < cutoff))
    # Telegram lets a bot delete messages for 48 hours: older ids are useless.
    await session.execute(
        delete(ChatMessageId).where(ChatMessageId.sent_at < now - CHAT_IDS_USEFUL_FOR)
    )
    # An SMS sender's STOP outlives retention (it must be honoured until START);
    # the rest of a long answer and the day's count do not.
    await session.execute(
        delete(SmsLedger).where(SmsLedger.updated_at < cutoff, ~SmsLedger.stopped)
    )
    await session.execute(
        update(SmsLedger)
        .where(SmsLedger.updated_at < cutoff)
        .values(more="", more_preview="", segments=0, day=None)
    )
    await session.execute(
        delete(Conversation).where(
            Conversation.last_message_at < cutoff,
            ~Conversation.id.in_(select(Message.conversation_id)),
        )
    )
