"""WhatsApp adapter through Twilio: signed webhooks in, TwiML out, REST for staff messages.

Inbound replies travel back in the webhook response (TwiML), so nothing is
sent through the REST API unless a person from the team writes first. That
outbound path respects WhatsApp's 24-hour customer-service window.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.render import numbered_messages
from bot.core import EngineResult, IncomingMessage, MessageKind, Reply
from bot.outbound import Delivery

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
WEBHOOK_PATH = "/webhooks/whatsapp"
STATUS_PATH = "/webhooks/whatsapp/status"
MAX_PART_CHARS = 1600
SESSION_WINDOW = dt.timedelta(hours=24)
FAILED_STATUSES = frozenset({"failed", "undelivered"})
MAX_SEND_ATTEMPTS = 4
# Twilio's webhook bodies are a few kilobytes; a WhatsApp text is at most 4,096
# characters. Anything far larger is not from Twilio and is refused unread.
MAX_FORM_BYTES = 256 * 1024
BACKOFF_SECONDS = 0.5

Handle = Callable[[IncomingMessage], Awaitable[EngineResult]]
ContactState = Callable[[str, str], Awaitable[tuple[dt.datetime | None, bool]]]
RecordFailure = Callable[[str, str, str, str | None], Awaitable[None]]


@dataclass(frozen=True)
class WhatsAppConfig:
    account_sid: str
    auth_token: str
    sender: str  # "whatsapp:+1415..."
    public_base_url: str
    template_sid: str = ""  # approved Content SID for messages outside the 24-hour window
    api_base_url: str = ""  # tests: where to send what is meant for Twilio's hosts

    @classmethod
    def from_env(cls, env: Mapping[str, str], template_sid: str = "") -> WhatsAppConfig | None:
        token = env.get("TWILIO_AUTH_TOKEN", "")
        if not token:
            return None
        return cls(
            account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            auth_token=token,
            sender=env.get("TWILIO_WHATSAPP_FROM", ""),
            public_base_url=env.get("PUBLIC_BASE_URL", ""),
            template_sid=env.get("TWILIO_TEMPLATE_SID", template_sid),
            api_base_url=env.get("TWILIO_API_BASE_URL", ""),
        )


class RedirectingHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Twilio's client has fixed API hosts; this sends their requests to another base URL."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._base = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        parts = urlsplit(url)
        if self._base and parts.hostname and parts.hostname.endswith("twilio.com"):
            url = f"{self._base}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


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


def twiml_for(replies: Sequence[Reply]) -> str:
    response = MessagingResponse()
    for part in numbered_messages(replies, MAX_PART_CHARS):
        response.message(part)
    return str(response)


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
    ) -> None:
        self.config = config
        self._handle = handle
        self._contact_state = contact_state
        self._record_failure = record_failure
        self._validator = RequestValidator(config.auth_token)
        http_client = (
            RedirectingHttpClient(config.api_base_url, timeout=15)
            if config.api_base_url
            else TwilioHttpClient(timeout=15)
        )
        self._client = Client(config.account_sid, config.auth_token, http_client=http_client)

    async def start(self) -> None:
        if not self.config.public_base_url:
            log.warning("PUBLIC_BASE_URL is not set: every WhatsApp webhook will be refused")

    async def stop(self) -> None:
        return None

    def _signed(self, request: Request, form: dict[str, str]) -> bool:
        if not self.config.public_base_url:
            return False
        # Twilio signs the public URL it called, which differs from ours behind a proxy.
        url = self.config.public_base_url.rstrip("/") + request.url.path
        if request.url.query:
            url += f"?{request.url.query}"
        signature = request.headers.get("X-Twilio-Signature", "")
        return bool(signature) and bool(self._validator.validate(url, form, signature))

    async def _form(self, request: Request) -> dict[str, str] | None:
        """The urlencoded body Twilio posts; None when it is too large to be Twilio's.

        Parsed with the standard library: Starlette's general form parser cost more
        per webhook than answering the message.
        """
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return None
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    def routes(self) -> list[Route]:
        async def inbound(request: Request) -> Response:
            form = await self._form(request)
            if form is None:
                return Response("request too large", status_code=413)
            if not self._signed(request, form):
                return Response("forbidden", status_code=403)
            if not form.get("From"):
                return Response("missing From", status_code=400)
            result = await self._handle(incoming_from_form(form))
            return Response(twiml_for(result.replies), media_type="application/xml")

        async def status(request: Request) -> Response:
            form = await self._form(request)
            if form is None:
                return Response("request too large", status_code=413)
            if not self._signed(request, form):
                return Response("forbidden", status_code=403)
            state = form.get("MessageStatus", "")
            if state in FAILED_STATUSES:
                await self._record_failure(
                    CHANNEL, form.get("MessageSid", ""), state, form.get("ErrorCode")
                )
                log.warning("whatsapp delivery %s (error %s)", state, form.get("ErrorCode"))
            return Response(status_code=204)

        return [
            Route(WEBHOOK_PATH, inbound, methods=["POST"]),
            Route(STATUS_PATH, status, methods=["POST"]),
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

        def call() -> str:
            message = self._client.messages.create(
                to=to, from_=self.config.sender, **content, **extra
            )
            return str(message.sid)

        # twilio's client is synchronous (requests): keep it off the event loop.
        for attempt in range(MAX_SEND_ATTEMPTS):
            try:
                return await asyncio.to_thread(call)
            except TwilioRestException as exc:
                if exc.status < 500 or attempt == MAX_SEND_ATTEMPTS - 1:
                    raise
            except (TwilioException, OSError):
                if attempt == MAX_SEND_ATTEMPTS - 1:
                    raise
            wait = BACKOFF_SECONDS * 2**attempt
            log.warning("twilio send failed: retrying in %.1fs", wait)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")
