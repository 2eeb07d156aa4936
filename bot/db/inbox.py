"""Handoff tickets as staff see them: the queue, one conversation, replies, closing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import HandoffTicket, Message, utcnow
from bot.db.state_log import current_conversation
from bot.privacy import Protector

URGENCY_ORDER = case({"critical": 0, "high": 1, "normal": 2}, value=HandoffTicket.urgency, else_=3)


@dataclass(frozen=True)
class TicketView:
    reference: str
    channel: str
    urgency: str
    reason: str
    status: str
    created_at: dt.datetime
    first_response_at: dt.datetime | None
    outcome: str | None


@dataclass(frozen=True)
class Line:
    direction: str
    text: str
    at: dt.datetime
    route: str | None


def _view(ticket: HandoffTicket) -> TicketView:
    return TicketView(
        ticket.reference,
        ticket.channel,
        ticket.urgency,
        ticket.reason,
        ticket.status,
        ticket.created_at,
        ticket.first_response_at,
        ticket.outcome,
    )


class Inbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], protector: Protector) -> None:
        self._sessions = sessions
        self._protector = protector

    async def open_tickets(self) -> list[TicketView]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(HandoffTicket)
                .where(HandoffTicket.status == "open")
                .order_by(URGENCY_ORDER, HandoffTicket.created_at)
            )
            return [_view(t) for t in rows.scalars()]

    async def _ticket(self, session: AsyncSession, reference: str) -> HandoffTicket | None:
        found = await session.execute(
            select(HandoffTicket).where(HandoffTicket.reference == reference)
        )
        return found.scalar_one_or_none()

    async def ticket(self, reference: str) -> tuple[TicketView, list[Line]] | None:
        async with self._sessions() as session:
            ticket = await self._ticket(session, reference)
            if ticket is None:
                return None
            rows = await session.execute(
                select(Message)
                .where(Message.user_id == ticket.user_id)
                .order_by(Message.created_at, Message.id)
            )
            lines = [Line(m.direction, m.text or "", m.created_at, m.route) for m in rows.scalars()]
            return _view(ticket), lines

    async def address(self, reference: str) -> str | None:
        """The decrypted address to reply to; None once the ticket is closed."""
        async with self._sessions() as session:
            ticket = await self._ticket(session, reference)
            if ticket is None or ticket.status != "open" or ticket.reply_address is None:
                return None
            return self._protector.open(ticket.reply_address)

    async def record_reply(self, reference: str, text: str, delivered: bool) -> None:
        async with self._sessions.begin() as session:
            ticket = await self._ticket(session, reference)
            if ticket is None:
                return
            now = utcnow()
            if delivered and ticket.first_response_at is None:
                ticket.first_response_at = now
            ticket.last_activity_at = now
            conversation = await current_conversation(session, ticket.user_id, ticket.channel, now)
            session.add(
                Message(
                    conversation_id=conversation.id,
                    user_id=ticket.user_id,
                    channel=ticket.channel,
                    direction="out",
                    text=text,
                    route="staff" if delivered else "staff_not_sent",
                )
            )
