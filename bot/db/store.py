"""The database-backed StateStore: per-user state, the message log, handoffs, idempotency,
erasure and the retention purge."""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import EngineResult, HandoffRequest, IncomingMessage, Urgency, UserState
from bot.db.models import (
    Conversation,
    DailyCount,
    DeliveryFailure,
    HandoffTicket,
    Message,
    ProcessedMessage,
    User,
    utcnow,
)
from bot.privacy import Protector

CONVERSATION_GAP = dt.timedelta(hours=6)
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


async def current_conversation(
    session: AsyncSession, user_id: int, channel: str, now: dt.datetime
) -> Conversation:
    """The person's conversation, or a new one after a long gap: how staff read exchanges."""
    conversation = (
        await session.execute(
            select(Conversation)
            .where(Conversation.user_id == user_id)
            .order_by(Conversation.last_message_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if conversation is None or now - conversation.last_message_at > CONVERSATION_GAP:
        conversation = Conversation(user_id=user_id, channel=channel)
        session.add(conversation)
        await session.flush()
    conversation.last_message_at = now
    return conversation


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


@dataclass(frozen=True)
class PurgeResult:
    messages_deleted: int
    counted_days: int
    processed_ids_deleted: int


class SqlStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], protector: Protector) -> None:
        self._sessions = sessions
        self._protector = protector

    async def _user(self, session: AsyncSession, channel: str, user_id: str) -> User | None:
        user_hash = self._protector.user_hash(channel, user_id)
        found = await session.execute(
            select(User).where(User.channel == channel, User.user_hash == user_hash)
        )
        return found.scalar_one_or_none()

    async def _user_or_new(self, session: AsyncSession, channel: str, user_id: str) -> User:
        user = await self._user(session, channel, user_id)
        if user is not None:
            return user
        try:
            async with session.begin_nested():
                user = User(channel=channel, user_hash=self._protector.user_hash(channel, user_id))
                session.add(user)
                await session.flush()
            return user
        except IntegrityError:
            # Another worker created the same person a moment ago: use that row.
            existing = await self._user(session, channel, user_id)
            assert existing is not None
            return existing

    async def load(self, channel: str, user_id: str) -> UserState:
        async with self._sessions() as session:
            user = await self._user(session, channel, user_id)
            if user is None:
                return UserState()
            ticket = await self._open_ticket(session, user.id)
            idle = 0.0
            if ticket is not None:
                last = ticket.last_activity_at or ticket.created_at
                idle = (utcnow() - last).total_seconds()
            return UserState(
                language=user.language,
                language_locked=user.language_locked,
                last_options=[o for o in user.last_options.split(",") if o],
                pending_action=user.pending_action,
                privacy_notice_shown=user.privacy_notice_at is not None,
                proactive_opt_out=user.proactive_opt_out,
                open_ticket=None if ticket is None else ticket.reference,
                ticket_idle_seconds=idle,
            )

    async def save(self, channel: str, user_id: str, state: UserState) -> None:
        async with self._sessions.begin() as session:
            user = await self._user_or_new(session, channel, user_id)
            self._apply_state(user, state)

    async def persist_many(
        self, items: list[tuple[IncomingMessage, UserState, EngineResult]]
    ) -> None:
        """State and message log of many exchanges in one transaction (the write-behind path)."""
        async with self._sessions.begin() as session:
            for message, state, result in items:
                user = await self._user_or_new(session, message.channel, message.user_id)
                self._apply_state(user, state)
                await self._record_in(session, user, message, result)

    def _apply_state(self, user: User, state: UserState) -> None:
        user.language = state.language
        user.language_locked = state.language_locked
        user.last_options = ",".join(state.last_options)
        user.pending_action = state.pending_action
        user.proactive_opt_out = state.proactive_opt_out
        if state.privacy_notice_shown and user.privacy_notice_at is None:
            user.privacy_notice_at = utcnow()
        user.last_inbound_at = utcnow()

    async def first_time_seen(self, channel: str, message_id: str) -> bool:
        try:
            async with self._sessions.begin() as session:
                # Platform ids can embed a chat id or phone number: keep only a keyed hash.
                key = self._protector.user_hash(channel, message_id)
                session.add(ProcessedMessage(channel=channel, message_id=key))
        except IntegrityError:
            return False
        return True

    async def record(self, message: IncomingMessage, result: EngineResult) -> None:
        async with self._sessions.begin() as session:
            user = await self._user_or_new(session, message.channel, message.user_id)
            await self._record_in(session, user, message, result)

    async def _record_in(
        self, session: AsyncSession, user: User, message: IncomingMessage, result: EngineResult
    ) -> None:
        now = utcnow()
        conversation = await current_conversation(session, user.id, message.channel, now)
        common: dict[str, Any] = {
            "conversation_id": conversation.id,
            "user_id": user.id,
            "channel": message.channel,
            "language": result.language or None,
        }
        session.add(
            Message(
                direction="in",
                text=message.text or f"[{message.kind.value}]",
                intent=result.intent,
                confidence=result.confidence,
                route=result.route,
                **common,
            )
        )
        for reply in result.replies:
            session.add(
                Message(direction="out", text=reply.text, answer_key=reply.content_key, **common)
            )
        ticket = await self._open_ticket(session, user.id)
        if ticket is not None:
            ticket.last_activity_at = now

    async def _open_ticket(self, session: AsyncSession, user_id: int) -> HandoffTicket | None:
        found = await session.execute(
            select(HandoffTicket)
            .where(HandoffTicket.user_id == user_id, HandoffTicket.status == "open")
            .order_by(HandoffTicket.id.desc())
            .limit(1)
        )
        return found.scalar_one_or_none()

    async def open_handoff(
        self, message: IncomingMessage, request: HandoffRequest
    ) -> tuple[str, bool]:
        order = [u.value for u in Urgency]
        async with self._sessions.begin() as session:
            user = await self._user_or_new(session, message.channel, message.user_id)
            ticket = await self._open_ticket(session, user.id)
            if ticket is not None:
                if order.index(request.urgency.value) > order.index(ticket.urgency):
                    ticket.urgency, ticket.reason = request.urgency.value, request.reason
                ticket.last_activity_at = utcnow()
                return ticket.reference, False
            reference = new_reference()
            session.add(
                HandoffTicket(
                    user_id=user.id,
                    channel=message.channel,
                    reference=reference,
                    urgency=request.urgency.value,
                    reason=request.reason,
                    reply_address=self._protector.seal(message.user_id),
                    last_activity_at=utcnow(),
                )
            )
            return reference, True

    async def open_ticket_reference(self, channel: str, user_id: str) -> str | None:
        async with self._sessions() as session:
            user = await self._user(session, channel, user_id)
            if user is None:
                return None
            found = await session.execute(
                select(HandoffTicket.reference).where(
                    HandoffTicket.user_id == user.id, HandoffTicket.status == "open"
                )
            )
            return found.scalar_one_or_none()

    async def close_handoff(self, reference: str, outcome: str) -> None:
        """Closing drops the encrypted address: nothing is kept that could reach the person."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(HandoffTicket)
                .where(HandoffTicket.reference == reference)
                .values(status="closed", outcome=outcome, closed_at=utcnow(), reply_address=None)
            )

    async def contact_state(self, channel: str, user_id: str) -> tuple[dt.datetime | None, bool]:
        """When the person last wrote, and whether they refused proactive messages."""
        async with self._sessions() as session:
            user = await self._user(session, channel, user_id)
            if user is None:
                return None, False
            return user.last_inbound_at, user.proactive_opt_out

    async def record_delivery_failure(
        self, channel: str, message_sid: str, status: str, error_code: str | None
    ) -> None:
        async with self._sessions.begin() as session:
            session.add(
                DeliveryFailure(
                    channel=channel,
                    message_sid=message_sid[:64],
                    status=status[:32],
                    error_code=(error_code or None) and error_code[:16],
                )
            )

    async def forget(self, channel: str, user_id: str) -> None:
        async with self._sessions.begin() as session:
            user = await self._user(session, channel, user_id)
            if user is None:
                return
            # Explicit deletes in dependency order: SQLite enforces cascades only with the pragma.
            await session.execute(delete(Message).where(Message.user_id == user.id))
            await session.execute(delete(HandoffTicket).where(HandoffTicket.user_id == user.id))
            await session.execute(delete(Conversation).where(Conversation.user_id == user.id))
            await session.execute(delete(User).where(User.id == user.id))

    async def purge(self, retention_days: int, now: dt.datetime | None = None) -> PurgeResult:
        """Fold messages past retention into anonymous daily counts, then delete them."""
        cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
        async with self._sessions.begin() as session:
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
            grouped = Counter(
                (
                    when.date(),
                    channel,
                    language or "",
                    direction,
                    intent or answer or "",
                    route or "",
                )
                for when, channel, language, direction, intent, answer, route in rows.all()
            )
            days: set[dt.date] = set()
            for (when, channel, language, direction, intent, route), count in grouped.items():
                days.add(when)
                existing = (
                    await session.execute(
                        select(DailyCount).where(
                            DailyCount.day == when,
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
                            day=when,
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
            deleted = await session.execute(delete(Message).where(Message.created_at < cutoff))
            processed = await session.execute(
                delete(ProcessedMessage).where(ProcessedMessage.created_at < cutoff)
            )
            await session.execute(
                delete(Conversation).where(
                    Conversation.last_message_at < cutoff,
                    ~Conversation.id.in_(select(Message.conversation_id)),
                )
            )
        return PurgeResult(
            messages_deleted=int(getattr(deleted, "rowcount", 0) or 0),
            counted_days=len(days),
            processed_ids_deleted=int(getattr(processed, "rowcount", 0) or 0),
        )
