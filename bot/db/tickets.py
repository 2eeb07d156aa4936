"""Handoff tickets: opening one when a person needs the team, finding and closing it.

A ticket holds the only way back to the person (their address, encrypted), so
closing it drops that address at once; the reference is short and readable over
the phone.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import HandoffTicket, utcnow
from bot.db.people import find_or_add_user, find_user
from bot.privacy import Protector
from kernel.types import HandoffRequest, IncomingMessage, Urgency

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


async def _open_ticket(session: AsyncSession, user_id: int) -> HandoffTicket | None:
    found = await session.execute(
        select(HandoffTicket)
        .where(HandoffTicket.user_id == user_id, HandoffTicket.status == "open")
        .order_by(HandoffTicket.id.desc())
        .limit(1)
    )
    return found.scalar_one_or_none()


class Tickets:
    """The handoff tickets of people who asked for, or needed, the team."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], protector: Protector) -> None:
        self._sessions = sessions
        self._protector = protector

    async def open_handoff(
        self, message: IncomingMessage, request: HandoffRequest
    ) -> tuple[str, bool]:
        order = [u.value for u in Urgency]
        async with self._sessions.begin() as session:
            user = await find_or_add_user(
                session, self._protector, message.channel, message.user_id
            )
            ticket = await _open_ticket(session, user.id)
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
            user = await find_user(session, self._protector, channel, user_id)
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
