"""Finding a person's row by the keyed hash of their platform id.

Tickets, erasure and the contact checks all start from "which row is this person":
one place computes the hash so no caller ever queries by the plain chat id or number.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User
from bot.privacy import Protector


async def find_user(
    session: AsyncSession, protector: Protector, channel: str, user_id: str
) -> User | None:
    user_hash = protector.user_hash(channel, user_id)
    found = await session.execute(
        select(User).where(User.channel == channel, User.user_hash == user_hash)
    )
    return found.scalar_one_or_none()


async def find_or_add_user(
    session: AsyncSession, protector: Protector, channel: str, user_id: str
) -> User:
    user = await find_user(session, protector, channel, user_id)
    if user is not None:
        return user
    try:
        async with session.begin_nested():
            user = User(channel=channel, user_hash=protector.user_hash(channel, user_id))
            session.add(user)
            await session.flush()
        return user
    except IntegrityError:
        # Another worker created the same person a moment ago: use that row.
        existing = await find_user(session, protector, channel, user_id)
        assert existing is not None
        return existing
