"""Neutral types shared by channels, the engine, handlers and storage.

Only the standard library is imported here, so that every other layer can
depend on this module without pulling in a vendor SDK.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class MessageKind(StrEnum):
    """What a person sent; anything other than TEXT cannot be classified."""

    TEXT = "text"
    VOICE = "voice"
    AUDIO = "audio"
    VIDEO = "video"
    IMAGE = "image"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACT = "contact"
    OTHER = "other"


@dataclass(frozen=True)
class IncomingMessage:
    """A message from any channel, after the adapter stripped the platform format.

    `user_id` is the platform's own id (chat id, phone number); storage hashes it
    and never keeps it in plain text. `payload` carries a button's hidden value.
    """

    channel: str
    user_id: str
    text: str = ""
    kind: MessageKind = MessageKind.TEXT
    message_id: str | None = None
    payload: str | None = None
    is_private_chat: bool = True
    language_hint: str | None = None


@dataclass(frozen=True)
class Button:
    """A choice shown as a button where the channel can, as numbered text elsewhere."""

    label: str
    payload: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    content_key: str | None = None


@dataclass(frozen=True)
class IntentResult:
    """What the classifier thinks; `ranking` is best-first and excludes the fallback label."""

    intent: str
    confidence: float
    ranking: tuple[tuple[str, float], ...] = ()

    def score(self, intent: str) -> float:
        for name, confidence in self.ranking:
            if name == intent:
                return confidence
        return self.confidence if intent == self.intent else 0.0


class Route(StrEnum):
    """How the engine answered one message; stored with the exchange and counted in metrics."""

    ANSWER = "answer"
    ANSWER_PART = "answer_part"
    BUTTON = "button"
    NUMBER = "number"
    NUMBER_OUT_OF_RANGE = "number_out_of_range"
    MENU = "menu"
    FALLBACK = "fallback"
    SAFETY_EMERGENCY = "safety_emergency"
    SAFETY_CRISIS = "safety_crisis"
    GROUP_CHAT = "group_chat"
    TO_INBOX = "to_inbox"
    LOCATION = "location"
    CONTACT = "contact"
    MEDIA = "media"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NO_WORDS = "no_words"
    OTHER_LANGUAGE = "other_language"
    UNKNOWN_WORDS = "unknown_words"
    NLU_UNAVAILABLE = "nlu_unavailable"
    ENGINE_ERROR = "engine_error"
    DUPLICATE = "duplicate"
    DELETE_CONFIRM = "delete_confirm"
    DELETE_CANCELLED = "delete_cancelled"
    DELETED = "deleted"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    DISCREET = "discreet"
    ALERTS_PROMPT = "alerts_prompt"
    ALERTS_DONE = "alerts_done"
    ALERTS_STOPPED = "alerts_stopped"

    @property
    def is_safety(self) -> bool:
        """An emergency or crisis answer: it goes first, loud, and is never delayed."""
        return self in (Route.SAFETY_EMERGENCY, Route.SAFETY_CRISIS)


class Urgency(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True)
class HandoffRequest:
    """A marker that a person from the team must take over; later layers act on it."""

    reason: str
    urgency: Urgency


@dataclass
class EngineResult:
    """Everything the engine decided about one message."""

    replies: list[Reply]
    language: str
    intent: str | None = None
    confidence: float | None = None
    handoff: HandoffRequest | None = None
    route: Route = Route.ANSWER
    duplicate: bool = False
    # Discreet mode: every platform message must start with this neutral line.
    preview: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "intent": self.intent,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "language": self.language,
            "route": self.route.value,
            "replies": [
                {
                    "text": reply.text,
                    "buttons": [{"label": b.label, "payload": b.payload} for b in reply.buttons],
                }
                for reply in self.replies
            ],
            "handoff": None
            if self.handoff is None
            else {"reason": self.handoff.reason, "urgency": self.handoff.urgency.value},
        }


class NLUUnavailableError(Exception):
    """The classifier could not be reached or answered nonsense; the engine degrades."""


class IntentClassifier(Protocol):
    async def classify(self, text: str) -> IntentResult: ...

    async def classify_many(self, texts: Sequence[str]) -> list[IntentResult]:
        """One result per text, in order: a message and its sentences in one request."""
        ...


@dataclass(frozen=True)
class ContentEntry:
    """One curated answer in one language."""

    key: str
    language: str
    kind: str
    title: str
    text: str
    options: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    reviewed_on: str | None = None
    needs_review: bool = False
    review_notes: str = ""
    expires_on: str | None = None
    test_questions: tuple[str, ...] = ()
    # Where a person can confirm an unconfirmed answer (an official site or office).
    confirm_at: str = ""


@dataclass(frozen=True)
class DangerPhrases:
    emergency: tuple[str, ...]
    crisis: tuple[str, ...]
    # Idioms that contain a danger phrase but are not danger ("me muero de la risa").
    figurative: tuple[str, ...] = ()
    # Markers of a danger long over ("hace dos años", "years ago"): the lists stand back.
    past: tuple[str, ...] = ()
    # Markers of danger told as news or hearsay ("vi en las noticias", "I read that"):
    # the model's trafficking reading then counts only from a higher threshold.
    reported: tuple[str, ...] = ()


class ContentStore(Protocol):
    """Read access to the published answers; implementations may reload at any time."""

    async def refresh(self, force: bool = False) -> None:
        """Pick up newly published answers; cheap enough to call for every message."""
        ...

    def get(self, language: str, key: str) -> ContentEntry: ...

    def has(self, language: str, key: str) -> bool: ...

    def danger_phrases(self) -> DangerPhrases: ...


@dataclass
class UserState:
    """What the engine remembers between two messages of one person."""

    language: str | None = None
    language_locked: bool = False
    last_options: list[str] = field(default_factory=list)
    pending_action: str | None = None
    privacy_notice_shown: bool = False
    proactive_opt_out: bool = False
    open_ticket: str | None = None  # reference of the person's open handoff, if any
    ticket_idle_seconds: float = 0.0
    # The person asked for a person: messages go to the inbox until they ask for the
    # menu. An automatic ticket (danger, a child alone) never silences the bot.
    with_human: bool = False
    # Discreet mode: every message starts with a neutral line (handlers.discreet).
    discreet: bool = False


class StateStore(Protocol):
    """Per-user conversation state and inbound idempotency."""

    async def load(self, channel: str, user_id: str) -> UserState: ...

    async def first_time_seen(self, channel: str, message_id: str) -> bool:
        """True the first time a message id is offered, False for every repeat."""
        ...

    async def record(
        self, message: IncomingMessage, state: UserState, result: EngineResult
    ) -> None:
        """Keep the person's new state and the exchange (texts only within retention)."""
        ...

    async def open_handoff(
        self, message: IncomingMessage, request: HandoffRequest
    ) -> tuple[str, bool]:
        """Open a ticket or join the open one; returns its reference and whether it is new."""
        ...

    async def close_handoff(self, reference: str, outcome: str) -> None: ...

    async def forget(self, channel: str, user_id: str) -> None:
        """Erase everything stored about one person."""
        ...


class RouteHook(Protocol):
    """A feature that answers some messages before the usual routing (e.g. alert subscriptions).

    Returns None to let the message through; it may change the person's state.
    """

    async def route(
        self, message: IncomingMessage, state: UserState, language: str, text: str
    ) -> EngineResult | None: ...


class OutputChannel(Protocol):
    """Where replies go; each channel renders buttons its own way."""

    async def send(self, user_id: str, replies: Sequence[Reply]) -> None: ...


@dataclass(frozen=True)
class HandoffEvent:
    """A new ticket, for staff alerts; carries no personal data."""

    reference: str
    reason: str
    urgency: Urgency
    channel: str


OnHandoff = Callable[[HandoffEvent], Awaitable[None]]
# May this person open a new ticket now? (a cooldown, so scripts cannot open them in bulk)
HandoffGate = Callable[[IncomingMessage], Awaitable[bool]]
# What a channel hands each incoming message to: the engine's `handle`.
Handle = Callable[[IncomingMessage], Awaitable[EngineResult]]


@dataclass(frozen=True)
class Delivery:
    """Whether a message started by staff went out, and how; never dropped silently."""

    sent: bool
    mode: str  # free_text | template | telegram | not_sent
    reason: str = ""


Deliver = Callable[[str, Sequence[Reply]], Awaitable[Delivery]]
