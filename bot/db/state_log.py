"""Per-person state and the message log: what the dispatcher reads and writes for every message.

The reply path runs here, so the hot statements are Core, batched across concurrent
messages (`GroupCommit`); the rest of the store (tickets, retention) is in its own module.
Delivery failures the platforms report later belong to the same log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import statements as sql
from bot.db.batching import GroupCommit
from bot.db.models import Conversation, DeliveryFailure, utcnow
from bot.db.people import find_user
from bot.privacy import Protector
from kernel.types import EngineResult, IncomingMessage, UserState

CONVERSATION_GAP = dt.timedelta(hours=6)


def still_current(last_message_at: dt.datetime, now: dt.datetime) -> bool:
    """After a long gap a person's next message starts a new conversation for staff."""
    return now - last_message_at <= CONVERSATION_GAP


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
    if conversation is None or not still_current(conversation.last_message_at, now):
        conversation = Conversation(user_id=user_id, channel=channel)
        session.add(conversation)
        await session.flush()
    conversation.last_message_at = now
    return conversation


def storable(text: str) -> str:
    """Text any database accepts: people send binary junk, and PostgreSQL refuses NUL
    bytes while both databases refuse unpaired surrogates, either of which would
    otherwise fail the whole batch it is written with."""
    cleaned = text.encode("utf-8", "replace").decode("utf-8")
    return cleaned.replace("\x00", "\ufffd")


def _state_from(row: Any, now: dt.datetime) -> UserState:
    if row is None:
        return UserState()
    idle = 0.0
    if row.reference is not None:
        idle = (now - (row.last_activity_at or row.created_at)).total_seconds()
    return UserState(
        language=row.language,
        language_locked=bool(row.language_locked),
        last_options=[o for o in (row.last_options or "").split(",") if o],
        pending_action=row.pending_action,
        privacy_notice_shown=row.privacy_notice_at is not None,
        proactive_opt_out=bool(row.proactive_opt_out),
        open_ticket=row.reference,
        ticket_idle_seconds=idle,
        with_human=bool(row.with_human) and row.reference is not None,
        discreet=bool(row.discreet),
    )


class StateLog:
    """Per-person state, inbound idempotency and the message log (the StateStore protocol)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], protector: Protector) -> None:
        self._sessions = sessions
        self._protector = protector
        # The per-message path uses Core statements on the engine behind the sessions.
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._upserts = sql.DialectStatements(self._engine)
        self._first_seen = GroupCommit(self._insert_first_seen)
        self._states = GroupCommit(self._load_states)

    async def load(self, channel: str, user_id: str) -> UserState:
        return await self._states.submit((channel, self._protector.user_hash(channel, user_id)))

    async def _load_states(self, people: list[tuple[str, str]]) -> list[UserState]:
        """One statement for many people: their state and open ticket, if any."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                sql.LOAD_STATES, {"hashes": sorted({user_hash for _, user_hash in people})}
            )
            # Ordered by ticket id: the newest open ticket's row wins.
            found = {(row.channel, row.user_hash): row for row in rows}
        now = utcnow()
        # A fresh state per request: two messages of one person may share a batch.
        return [_state_from(found.get(person), now) for person in people]

    async def record(
        self, message: IncomingMessage, state: UserState, result: EngineResult
    ) -> None:
        await self.persist_many([(message, state, result)])

    async def persist_many(
        self, items: list[tuple[IncomingMessage, UserState, EngineResult]]
    ) -> None:
        """State and message log of many exchanges in one transaction of five statements.

        Core statements, not ORM objects: this runs for every message, and the ORM's
        per-object bookkeeping cost more than the database itself.
        """
        if not items:
            return
        now = utcnow()
        states: dict[tuple[str, str], UserState] = {}
        person: list[tuple[str, str]] = []
        for message, state, _ in items:
            key = (message.channel, self._protector.user_hash(message.channel, message.user_id))
            states[key] = state  # the latest state of a person wins
            person.append(key)
        async with self._engine.begin() as connection:
            user_ids = await self._upsert_users(connection, states, now)
            conversations = await self._touch_conversations(connection, user_ids, now)
            rows: list[dict[str, Any]] = []
            for key, (message, _, result) in zip(person, items, strict=True):
                common = {
                    "conversation_id": conversations[key],
                    "user_id": user_ids[key],
                    "channel": message.channel,
                    "language": result.language or None,
                    "created_at": now,
                }
                rows.append(
                    {
                        **common,
                        "direction": "in",
                        "text": storable(message.text) or f"[{message.kind.value}]",
                        "intent": result.intent,
                        "confidence": result.confidence,
                        "route": result.route,
                        "answer_key": None,
                    }
                )
                rows.extend(
                    {
                        **common,
                        "direction": "out",
                        "text": storable(reply.text),
                        "intent": None,
                        "confidence": None,
                        "route": None,
                        "answer_key": reply.content_key,
                    }
                    for reply in result.replies
                )
            await connection.execute(sql.INSERT_MESSAGES, rows)
            await connection.execute(
                sql.TOUCH_TICKETS, {"ids": list(user_ids.values()), "now": now}
            )

    async def _upsert_users(
        self,
        connection: AsyncConnection,
        states: dict[tuple[str, str], UserState],
        now: dt.datetime,
    ) -> dict[tuple[str, str], int]:
        rows = [
            {
                "channel": channel,
                "user_hash": user_hash,
                "language": state.language,
                "language_locked": state.language_locked,
                "last_options": ",".join(state.last_options),
                "pending_action": state.pending_action,
                "with_human": state.with_human,
                "discreet": state.discreet,
                "proactive_opt_out": state.proactive_opt_out,
                "privacy_notice_at": now if state.privacy_notice_shown else None,
                "last_inbound_at": now,
                "created_at": now,
            }
            for (channel, user_hash), state in states.items()
        ]
        found = (await connection.execute(self._upserts.upsert_user, rows)).all()
        return {(str(row.channel), str(row.user_hash)): int(row.id) for row in found}

    async def _touch_conversations(
        self, connection: AsyncConnection, user_ids: dict[tuple[str, str], int], now: dt.datetime
    ) -> dict[tuple[str, str], int]:
        """Each person's current conversation, starting a new one after a long gap."""
        found = await connection.execute(sql.NEWEST_CONVERSATIONS, {"ids": list(user_ids.values())})
        current = {row.user_id: row.id for row in found if still_current(row.last_message_at, now)}
        keys_of = {user_id: key for key, user_id in user_ids.items()}
        missing = [user_id for user_id in user_ids.values() if user_id not in current]
        if missing:
            created = await connection.execute(
                sql.NEW_CONVERSATION,
                [
                    {
                        "user_id": user_id,
                        "channel": keys_of[user_id][0],
                        "started_at": now,
                        "last_message_at": now,
                    }
                    for user_id in missing
                ],
            )
            current.update({row.user_id: row.id for row in created})
        touched = [current[u] for u in user_ids.values() if u not in missing]
        if touched:
            await connection.execute(sql.TOUCH_CONVERSATIONS, {"ids": touched, "now": now})
        return {key: current[user_id] for key, user_id in user_ids.items()}

    async def first_time_seen(self, channel: str, message_id: str) -> bool:
        # Platform ids can embed a chat id or phone number: keep only a keyed hash.
        return await self._first_seen.submit(
            (channel, self._protector.user_hash(channel, message_id))
        )

    async def _insert_first_seen(self, keys: list[tuple[str, str]]) -> list[bool]:
        """`INSERT ... ON CONFLICT DO NOTHING RETURNING` tells which ids are new."""
        now = utcnow()
        rows = [{"channel": c, "message_id": k, "created_at": now} for c, k in sorted(set(keys))]
        async with self._engine.begin() as connection:
            inserted = await connection.execute(self._upserts.insert_first_seen, rows)
            new = {(str(c), str(k)) for c, k in inserted.all()}
        answers: list[bool] = []
        for key in keys:
            answers.append(key in new)
            new.discard(key)  # the same id twice in one batch: only its first copy is new
        return answers

    async def contact_state(self, channel: str, user_id: str) -> tuple[dt.datetime | None, bool]:
        """When the person last wrote, and whether they refused proactive messages."""
        async with self._sessions() as session:
            user = await find_user(session, self._protector, channel, user_id)
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
