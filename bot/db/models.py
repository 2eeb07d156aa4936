"""Tables. No column holds a plain phone number or chat id: users are found by a keyed
hash, and the one address kept to reply later (an open handoff) is encrypted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "user_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_hash: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    language_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    privacy_notice_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    proactive_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    last_inbound_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_options: Mapped[str] = mapped_column(Text, default="")
    pending_action: Mapped[str | None] = mapped_column(String(32))
    # The person chose to talk to a person: their messages go to the inbox until
    # they ask for the menu or the ticket closes. Automatic tickets never set it.
    with_human: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Discreet mode: a neutral first line on every message (a watched phone).
    discreet: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_message_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    text: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    answer_key: Mapped[str | None] = mapped_column(String(64))
    route: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class DailyCount(Base):
    """What survives the retention purge: anonymous counts, no text, no user."""

    __tablename__ = "daily_counts"
    __table_args__ = (
        UniqueConstraint("day", "channel", "language", "direction", "intent", "route"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    channel: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="")
    direction: Mapped[str] = mapped_column(String(3))
    intent: Mapped[str] = mapped_column(String(64), default="")
    route: Mapped[str] = mapped_column(String(32), default="")
    count: Mapped[int] = mapped_column(Integer, default=0)


class HandoffTicket(Base):
    __tablename__ = "handoff_tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    urgency: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(64))
    reply_address: Mapped[bytes | None] = mapped_column(LargeBinary)  # Fernet token
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_activity_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ProcessedMessage(Base):
    """Inbound ids already answered, so a platform's retry is not answered twice."""

    __tablename__ = "processed_messages"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class DeliveryFailure(Base):
    """A reply the platform could not deliver (status callback); no address is kept."""

    __tablename__ = "delivery_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    message_sid: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class WebOutboxMessage(Base):
    """A staff reply waiting for a web chat page to collect it (the page polls)."""

    __tablename__ = "web_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_hash: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # editor | agent | viewer
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # The staff pages' language ("es", "en"); empty: follow the browser, else Spanish.
    language: Mapped[str | None] = mapped_column(String(8))


class StaffSession(Base):
    """A logged-in browser; the cookie holds the token, the table only its hash."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class AuditEvent(Base):
    """Who changed what, when: every staff action that changes something."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class TestQuestion(Base):
    __tablename__ = "test_questions"
    __test__ = False  # not a pytest class
    __table_args__ = (UniqueConstraint("key", "language", "text"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255), default="content")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TrainingExample(Base):
    """An unanswered question that staff assigned to an intent; used at the next retraining."""

    __tablename__ = "training_examples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class RetrainJob(Base):
    __tablename__ = "retrain_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # running | swapped | kept_old | failed
    progress: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    model_path: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ContentVersion(Base):
    __tablename__ = "content_versions"
    __table_args__ = (UniqueConstraint("key", "language", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # draft | published | superseded
    body: Mapped[str] = mapped_column(Text)  # the entry as YAML, same shape as content/ files
    created_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Subscriber(Base):
    """A person who asked for topic alerts: the one case where the bot writes first.

    The address is encrypted (Fernet) and absent for the web chat, whose page
    collects announcements by the keyed hash. The row goes on "cancelar avisos",
    on erasure and after the configured time without contact.
    """

    __tablename__ = "subscribers"
    __table_args__ = (UniqueConstraint("channel", "user_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_hash: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[bytes | None] = mapped_column(LargeBinary)  # Fernet token; None for web
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class SubscriptionTopic(Base):
    __tablename__ = "subscription_topics"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Broadcast(Base):
    """An announcement: written by one staff member, approved by another, then sent."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    text_es: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    # draft | approved | sending | done | cancelled
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    author: Mapped[str] = mapped_column(String(255))
    approver: Mapped[str | None] = mapped_column(String(255))
    send_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class BroadcastDelivery(Base):
    """One recipient of one broadcast; its status is the job's durable progress.

    No address here: it is read from the subscriber when the message goes out,
    so a person who unsubscribes or is erased mid-job receives nothing.
    """

    __tablename__ = "broadcast_deliveries"
    __table_args__ = (UniqueConstraint("broadcast_id", "subscriber_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True
    )
    subscriber_id: Mapped[int] = mapped_column(Integer, index=True)
    channel: Mapped[str] = mapped_column(String(32))
    # pending | claimed | sent | failed | skipped
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    mode: Mapped[str | None] = mapped_column(String(16))  # telegram | free_text | template | web
    error: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class WorkerLease(Base):
    """Which worker may run send jobs, until when: exactly one at a time."""

    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class SmsLedger(Base):
    """Per SMS sender: STOP, today's outbound segments and the rest of a long answer.

    Found by the same keyed hash as the person, never by the number itself.
    """

    __tablename__ = "sms_ledger"

    user_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(8))
    day: Mapped[dt.date | None] = mapped_column(Date)
    segments: Mapped[int] = mapped_column(Integer, default=0)
    cap_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    more: Mapped[str] = mapped_column(Text, default="")  # the rest of a long answer ("MAS")
    more_preview: Mapped[str] = mapped_column(Text, default="")  # its neutral first line
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class ChatMessageId(Base):
    """A Telegram message id (the bot's or the person's) that "/borrar_chat" may delete.

    Only the id and when it was sent, under the person's keyed hash: the chat id
    arrives with each request and is never stored. Telegram lets a bot delete
    messages for 48 hours, so older rows are useless and the purge drops them.
    """

    __tablename__ = "chat_message_ids"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_hash: Mapped[str] = mapped_column(String(64), index=True)
    message_id: Mapped[int] = mapped_column(BigInteger)
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
