"""The statements of the per-message path, prepared once.

Core rather than ORM: they run for every message, and the ORM's per-object
bookkeeping cost more than the database itself. Lists of IDs use expanding
parameters and rows go in as lists (executemany), so each statement compiles
once whatever the batch size.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.models import Conversation, HandoffTicket, Message, ProcessedMessage, User

USERS = cast(Table, User.__table__)
CONVERSATIONS = cast(Table, Conversation.__table__)
MESSAGES = cast(Table, Message.__table__)
TICKETS = cast(Table, HandoffTicket.__table__)
PROCESSED = cast(Table, ProcessedMessage.__table__)
LOAD_STATES = (
    select(
        USERS.c.channel,
        USERS.c.user_hash,
        USERS.c.language,
        USERS.c.language_locked,
        USERS.c.last_options,
        USERS.c.pending_action,
        USERS.c.with_human,
        USERS.c.discreet,
        USERS.c.privacy_notice_at,
        USERS.c.proactive_opt_out,
        TICKETS.c.reference,
        TICKETS.c.last_activity_at,
        TICKETS.c.created_at,
    )
    .select_from(USERS)
    .outerjoin(TICKETS, and_(TICKETS.c.user_id == USERS.c.id, TICKETS.c.status == "open"))
    .where(USERS.c.user_hash.in_(bindparam("hashes", expanding=True)))
    .order_by(TICKETS.c.id)
)


NEWEST_CONVERSATIONS = select(
    CONVERSATIONS.c.id, CONVERSATIONS.c.user_id, CONVERSATIONS.c.last_message_at
).where(
    CONVERSATIONS.c.id.in_(
        select(func.max(CONVERSATIONS.c.id))
        .where(CONVERSATIONS.c.user_id.in_(bindparam("ids", expanding=True)))
        .group_by(CONVERSATIONS.c.user_id)
    )
)
INSERT_MESSAGES = insert(MESSAGES)
NEW_CONVERSATION = insert(CONVERSATIONS).returning(CONVERSATIONS.c.id, CONVERSATIONS.c.user_id)
TOUCH_CONVERSATIONS = (
    update(CONVERSATIONS)
    .where(CONVERSATIONS.c.id.in_(bindparam("ids", expanding=True)))
    .values(last_message_at=bindparam("now"))
)
TOUCH_TICKETS = (
    update(TICKETS)
    .where(TICKETS.c.status == "open", TICKETS.c.user_id.in_(bindparam("ids", expanding=True)))
    .values(last_activity_at=bindparam("now"))
)


def dialect_insert(engine: AsyncEngine, table: Any) -> Any:
    """INSERT with ON CONFLICT support: both PostgreSQL and SQLite (3.35+) have it."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


class DialectStatements:
    """The ON CONFLICT statements, built once: they differ between SQLite and PostgreSQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        users = dialect_insert(engine, USERS)
        excluded = users.excluded
        self.upsert_user = users.on_conflict_do_update(
            index_elements=[USERS.c.channel, USERS.c.user_hash],
            set_={
                "language": excluded.language,
                "language_locked": excluded.language_locked,
                "last_options": excluded.last_options,
                "pending_action": excluded.pending_action,
                "with_human": excluded.with_human,
                "discreet": excluded.discreet,
                "proactive_opt_out": excluded.proactive_opt_out,
                # When the notice was first shown is kept, never moved.
                "privacy_notice_at": func.coalesce(
                    USERS.c.privacy_notice_at, excluded.privacy_notice_at
                ),
                "last_inbound_at": excluded.last_inbound_at,
            },
        ).returning(USERS.c.id, USERS.c.channel, USERS.c.user_hash)
        self.insert_first_seen = (
            dialect_insert(engine, PROCESSED)
            .on_conflict_do_nothing()
            .returning(PROCESSED.c.channel, PROCESSED.c.message_id)
        )
