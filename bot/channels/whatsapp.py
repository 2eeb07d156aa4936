"""WhatsApp adapter through Twilio: signed webhooks in, TwiML out, REST for staff messages.

Inbound replies travel back in the webhook response (TwiML), so nothing is
sent through the REST API unless a person from the team writes first. That
outbound path respects WhatsApp's 24-hour customer-service window.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.render import numbered_messages
from bot.channels.twilio_common import (
    RecordFailure,
    TwilioWebhook,
    create_message,
    rest_client,
)
from bot.settings import Settings
from kernel.types import ContentStore, Delivery, Handle, IncomingMessage, MessageKind, Reply

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
WEBHOOK_PATH = "/webhooks/whatsapp"
STATUS_PATH = "/webhooks/whatsapp/status"
MAX_PART_CHARS = 1600
SESSION_WINDOW = dt.timedelta(hours=24)
SAFETY_TIP_KEY = "whatsapp_safety_tip"

ContactState = Callable[[str, str], Awaitable[tuple[dt.datetime | None, bool]]]


@dataclass(frozen=True)
class WhatsAppConfig:
    account_sid: str
    auth_token: str
    sender: str  # "whatsapp:+1415..."
    public_base_url: str
    template_sid: str = ""  # approved Content SID for messages outside the 24-hour window
    api_base_url: str = ""  # tests: where to send what is meant for Twilio's hosts

    @classmethod
    def from_settings(cls, settings: Settings) -> WhatsAppConfig | None:
        """The channel's settings, or None when Twilio is not configured."""
        twilio = settings.twilio
        if twilio is None:
            return None
        return cls(
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            sender=twilio.whatsapp_from,
            public_base_url=settings.public_base_url,
            template_sid=settings.whatsapp_template_sid,
            api_base_url=twilio.api_base_url,
        )


def _kind(form: Mapping[str, str]) -> MessageKind:
    if form.get("Latitude") and form.get("Longitude"):
        return MessageKind.LOCATION
    try:
        media = int(form.get("NumMedia") or 0)
    except ValueError:
        media = 0
    if media <= 0:
        return MessageKind.TEXT
    content_type = (form.get("MediaContentType0") or "").lower()
    if content_type.startswith("audio/"):
        return MessageKind.VOICE
    if content_type == "image/webp":
        return MessageKind.STICKER
    if content_type.startswith("image/"):
        return MessageKind.IMAGE
    if content_type.startswith("video/"):
        return MessageKind.VIDEO
    if "vcard" in content_type:
        return MessageKind.CONTACT
    return MessageKind.DOCUMENT


def incoming_from_form(form: Mapping[str, str]) -> IncomingMessage:
    """ProfileName and media URLs are read by nobody and stored nowhere."""
    payload = form.get("ButtonPayload") or None
    return IncomingMessage(
        channel=CHANNEL,
        user_id=form.get("From", ""),
        text=form.get("Body", "") if not payload else "",
        kind=_kind(form),
        message_id=form.get("MessageSid") or None,
        payload=payload,
    )


def twiml_for(replies: Sequence[Reply], preview: str = "") -> str:
    """`preview`: discreet mode's neutral line, put first in every message."""
    return _twiml(tuple(replies), preview)


@functools.lru_cache(maxsize=512)
def _twiml(replies: tuple[Reply, ...], preview: str) -> str:
    """Cached: replies are curated answers, so the same documents are built over and over;
    twilio's builder (ElementTree) takes about 50 µs for an answer, the cache 1 µs.
    """
    response = MessagingResponse()
    room = MAX_PART_CHARS - (len(preview) + 2 if preview else 0)
    for part in numbered_messages(replies, room):
        response.message(f"{preview}\n\n{part}" if preview else part)
    return str(response)


def with_safety_tip(replies: list[Reply], tip: str) -> list[Reply]:
    """The bot cannot delete a WhatsApp chat: the safety answer says how to, in one line."""
    if not replies or not tip:
        return replies
    first = replies[0]
    return [Reply(f"{first.text.rstrip()}\n{tip}", first.buttons, first.content_key), *replies[1:]]


class SendMode(StrEnum):
    FREE_TEXT = "free_text"
    TEMPLATE = "template"
    NOT_SENT = "not_sent"


@dataclass(frozen=True)
class SendOutcome:
    mode: SendMode
    reason: str = ""
    message_sids: tuple[str, ...] = ()

    @property
    def sent(self) -> bool:
        return self.mode is not SendMode.NOT_SENT


class WhatsAppChannel:
    def __init__(
        self,
        config: WhatsAppConfig,
        handle: Handle,
        contact_state: ContactState,
        record_failure: RecordFailure,
        content: ContentStore | None = None,
    ) -> None:
        """`content` gives the one-line WhatsApp tip added to safety answers."""
        self.config = config
        self._content = content
        self._handle = handle
        self._contact_state = contact_state
        self._record_failure = record_failure
        self._webhook = TwilioWebhook(config.auth_token, config.public_base_url)
        self._client = rest_client(config.account_sid, config.auth_token, config.api_base_url)

    async def start(self) -> None:
        if not self.config.public_base_url:
            log.warning("PUBLIC_BASE_URL is not set: every WhatsApp webhook will be refused")

    async def stop(self) -> None:
        return None

    def routes(self) -> list[Route]:
        async def inbound(request: Request) -> Response:
            form = await self._webhook.authentic_form(request)
            if isinstance(form, Response):
                return form
            if not form.get("From"):
                return Response("missing From", status_code=400)
            result = await self._handle(incoming_from_form(form))
            replies = result.replies
            if result.route.is_safety and self._content is not None:
                tip = self._content.get(result.language, SAFETY_TIP_KEY).text.strip()
                replies = with_safety_tip(replies, tip)
            return Response(twiml_for(replies, result.preview), media_type="application/xml")

        return [
            Route(WEBHOOK_PATH, inbound, methods=["POST"]),
            self._webhook.status_route(STATUS_PATH, CHANNEL, self._record_failure),
        ]

    async def send(
        self, to: str, replies: Sequence[Reply], now: dt.datetime | None = None
    ) -> SendOutcome:
        """Staff-initiated messages: free text inside the 24-hour window, else the template."""
        last_inbound, opted_out = await self._contact_state(CHANNEL, to)
        now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        inside = last_inbound is not None and now - last_inbound < SESSION_WINDOW
        if not inside and opted_out:
            return SendOutcome(SendMode.NOT_SENT, "the person asked not to receive messages")
        if not inside and not self.config.template_sid:
            return SendOutcome(
                SendMode.NOT_SENT,
                "more than 24 hours since the person last wrote, and no approved template"
                " is configured (whatsapp.template_sid)",
            )
        callback = (
            self.config.public_base_url.rstrip("/") + STATUS_PATH
            if self.config.public_base_url
            else None
        )
        try:
            if inside:
                sids = []
                for part in numbered_messages(replies, MAX_PART_CHARS):
                    sids.append(await self._create(to, callback, body=part))
                return SendOutcome(SendMode.FREE_TEXT, message_sids=tuple(sids))
            sid = await self._create(to, callback, content_sid=self.config.template_sid)
            return SendOutcome(
                SendMode.TEMPLATE,
                "outside the 24-hour window: the approved template was sent instead",
                (sid,),
            )
        except TwilioRestException as exc:
            return SendOutcome(SendMode.NOT_SENT, f"Twilio refused the message ({exc.code})")
        except (TwilioException, OSError) as exc:
            return SendOutcome(
                SendMode.NOT_SENT, f"Twilio could not be reached ({type(exc).__name__})"
            )

    async def deliver(self, to: str, replies: Sequence[Reply]) -> Delivery:
        outcome = await self.send(to, replies)
        return Delivery(outcome.sent, outcome.mode.value, outcome.reason)

    async def _create(self, to: str, callback: str | None, **content: str) -> str:
        extra: dict[str, str] = {"status_callback": callback} if callback else {}
        return await create_message(
            self._client, to=to, from_=self.config.sender, **content, **extra
        )
