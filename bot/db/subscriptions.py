"""Who asked for which alert topics, with the encrypted address needed to write first.

The address is sealed with the same key as handoff addresses and exists only
while the subscription does: cancelling, erasure and long silence delete the row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Row, Select, Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.channels import webchat
from bot.db.models import Subscriber, SubscriptionTopic, User, utcnow
from bot.privacy import Protector

_SUBSCRIBERS = cast(Table, Subscriber.__table__)
_TOPICS = cast(Table, SubscriptionTopic.__table__)
_USERS = cast(Table, User.__table__)


@dataclass(frozen=True)
class Recipient:
    """A subscriber as the sender needs them, address decrypted only in memory."""

    subscriber_id: int
    channel: str
    user_hash: str
    address: str | None
    language: str
    last_inbound_at: dt.datetime | None


class Subscriptions:
    def __init__(self, engine: AsyncEngine, protector: Protector) -> None:
        self._engine = engine
        self._protector = protector

    async def _id(self, connection: AsyncConnection, channel: str, user_hash: str) -> int | None:
        found = await connection.execute(
            select(_SUBSCRIBERS.c.id).where(
                _SUBSCRIBERS.c.channel == channel, _SUBSCRIBERS.c.user_hash == user_hash
            )
        )
        value = found.scalar_one_or_none()
        return None if value is None else int(value)

    async def subscribe(
        self, channel: str, user_id: str, language: str, topics: Sequence[str]
    ) -> list[str]:
        """Add topics to the person's subscription; returns every topic they now have."""
        user_hash = self._protector.user_hash(channel, user_id)
        # The web chat page collects announcements by hash: no address is kept.
        address = None if channel == webchat.CHANNEL else self._protector.seal(user_id)
        async with self._engine.begin() as connection:
            subscriber_id = await self._id(connection, channel, user_hash)
            if subscriber_id is None:
                created = await connection.execute(
                    insert(_SUBSCRIBERS).returning(_SUBSCRIBERS.c.id),
                    {
                        "channel": channel,
                        "user_hash": user_hash,
                        "address": address,
                        "language": language,
                        "created_at": utcnow(),
                    },
                )
                subscriber_id = int(created.scalar_one())
            else:
                await connection.execute(
                    update(_SUBSCRIBERS)
                    .where(_SUBSCRIBERS.c.id == subscriber_id)
                    .values(address=address, language=language)
                )
            have = set(
                (
                    await connection.execute(
                        select(_TOPICS.c.topic).where(_TOPICS.c.subscriber_id == subscriber_id)
                    )
                ).scalars()
            )
            new = [t for t in dict.fromkeys(topics) if t not in have]
            if new:
                await connection.execute(
                    insert(_TOPICS), [{"subscriber_id": subscriber_id, "topic": t} for t in new]
                )
            return sorted(have | set(new))

    async def topics_of(self, channel: str, user_id: str) -> list[str]:
        user_hash = self._protector.user_hash(channel, user_id)
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(_TOPICS.c.topic)
                .join(_SUBSCRIBERS, _SUBSCRIBERS.c.id == _TOPICS.c.subscriber_id)
                .where(_SUBSCRIBERS.c.channel == channel, _SUBSCRIBERS.c.user_hash == user_hash)
            )
            return sorted(str(t) for t in rows.scalars())

    async def unsubscribe(self, channel: str, user_id: str) -> bool:
        """Every topic and the address go; True when there was a subscription."""
        user_hash = self._protector.user_hash(channel, user_id)
        async with self._engine.begin() as connection:
            subscriber_id = await self._id(connection, channel, user_hash)
            if subscriber_id is None:
                return False
            await self.remove(connection, [subscriber_id])
            return True

    @staticmethod
    async def remove(connection: AsyncConnection, ids: Sequence[int]) -> None:
        if not ids:
            return
        await connection.execute(delete(_TOPICS).where(_TOPICS.c.subscriber_id.in_(ids)))
        await connection.execute(delete(_SUBSCRIBERS).where(_SUBSCRIBERS.c.id.in_(ids)))

    async def remove_ids(self, ids: Sequence[int]) -> None:
        async with self._engine.begin() as connection:
            await self.remove(connection, ids)

    def _recipient(self, row: Row[Any]) -> Recipient:
        sealed = row.address
        return Recipient(
            subscriber_id=int(row.id),
            channel=str(row.channel),
            user_hash=str(row.user_hash),
            address=None if sealed is None else self._protector.open(bytes(sealed)),
            language=str(row.language),
            last_inbound_at=row.last_inbound_at,
        )

    @staticmethod
    def _recipients_query() -> Select[Any]:
        return select(
            _SUBSCRIBERS.c.id,
            _SUBSCRIBERS.c.channel,
            _SUBSCRIBERS.c.user_hash,
            _SUBSCRIBERS.c.address,
            _SUBSCRIBERS.c.language,
            _USERS.c.last_inbound_at,
        ).outerjoin(
            _USERS,
            (_USERS.c.channel == _SUBSCRIBERS.c.channel)
            & (_USERS.c.user_hash == _SUBSCRIBERS.c.user_hash),
        )

    async def recipients(self, ids: Sequence[int]) -> dict[int, Recipient]:
        """Current subscribers among `ids`: someone gone since the job started is absent."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                self._recipients_query().where(_SUBSCRIBERS.c.id.in_(list(ids)))
            )
            return {int(row.id): self._recipient(row) for row in rows}

    async def inactive(self, cutoff: dt.datetime) -> list[Recipient]:
        """Subscribers who have not written since `cutoff` (subscribing is writing too)."""
        last = func.coalesce(_USERS.c.last_inbound_at, _SUBSCRIBERS.c.created_at)
        async with self._engine.connect() as connection:
            rows = await connection.execute(self._recipients_query().where(last < cutoff))
            return [self._recipient(row) for row in rows]

    async def counts(self) -> dict[str, int]:
        """Subscribers per topic and per channel: numbers only, for the dashboard."""
        async with self._engine.connect() as connection:
            by_topic = await connection.execute(
                select(_TOPICS.c.topic, func.count()).group_by(_TOPICS.c.topic)
            )
            by_channel = await connection.execute(
                select(_SUBSCRIBERS.c.channel, func.count()).group_by(_SUBSCRIBERS.c.channel)
            )
            counts = {f"topic:{t}": int(n) for t, n in by_topic.all()}
            counts.update({f"channel:{c}": int(n) for c, n in by_channel.all()})
            return counts
