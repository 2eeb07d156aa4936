"""What the WhatsApp and SMS channels share: both are Twilio Messaging.

Signature validation over the public URL, the size-capped urlencoded form,
the REST client (redirectable for tests) and sending with retries, and the
status callback that records failed deliveries live here once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
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

log = logging.getLogger(__name__)

FAILED_STATUSES = frozenset({"failed", "undelivered"})
MAX_SEND_ATTEMPTS = 4
BACKOFF_SECONDS = 0.5
# Twilio's webhook bodies are a few kilobytes; a message text is at most a few
# thousand characters. Anything far larger is not from Twilio and is refused unread.
MAX_FORM_BYTES = 256 * 1024

RecordFailure = Callable[[str, str, str, str | None], Awaitable[None]]


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


def rest_client(account_sid: str, auth_token: str, api_base_url: str = "") -> Client:
    http_client = (
        RedirectingHttpClient(api_base_url, timeout=15)
        if api_base_url
        else TwilioHttpClient(timeout=15)
    )
    return Client(account_sid, auth_token, http_client=http_client)


def form_from_body(body: bytes) -> dict[str, str] | None:
    """The fields of an urlencoded body; None when it is too large to be Twilio's.

    Bytes that are not UTF-8 become U+FFFD, so nothing later fails on them.
    """
    if len(body) > MAX_FORM_BYTES:
        return None
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


class TwilioWebhook:
    """Reads and authenticates what Twilio posts to one of our webhooks."""

    def __init__(self, auth_token: str, public_base_url: str) -> None:
        self._validator = RequestValidator(auth_token)
        self.public_base_url = public_base_url

    def signed(self, request: Request, form: Mapping[str, str]) -> bool:
        if not self.public_base_url:
            return False
        # Twilio signs the public URL it called, which differs from ours behind a proxy.
        url = self.public_base_url.rstrip("/") + request.url.path
        if request.url.query:
            url += f"?{request.url.query}"
        signature = request.headers.get("X-Twilio-Signature", "")
        return bool(signature) and bool(self._validator.validate(url, dict(form), signature))

    async def form(self, request: Request) -> dict[str, str] | None:
        """The urlencoded body Twilio posts; None when it is too large to be Twilio's.

        Parsed with the standard library: Starlette's general form parser cost more
        per webhook than answering the message.
        """
        return form_from_body(await request.body())

    async def authentic_form(self, request: Request) -> dict[str, str] | Response:
        """The form of a signed request, or the response that refuses the request."""
        form = await self.form(request)
        if form is None:
            return Response("request too large", status_code=413)
        if not self.signed(request, form):
            return Response("forbidden", status_code=403)
        return form

    def status_route(self, path: str, channel: str, record_failure: RecordFailure) -> Route:
        """Twilio's status callback: failed deliveries are recorded (no address is kept)."""

        async def status(request: Request) -> Response:
            form = await self.authentic_form(request)
            if isinstance(form, Response):
                return form
            state = form.get("MessageStatus", "")
            if state in FAILED_STATUSES:
                await record_failure(
                    channel, form.get("MessageSid", ""), state, form.get("ErrorCode")
                )
                log.warning("%s delivery %s (error %s)", channel, state, form.get("ErrorCode"))
            return Response(status_code=204)

        return Route(path, status, methods=["POST"])


async def create_message(client: Client, **params: str) -> str:
    """Send one message through the REST API; server errors and timeouts are retried.

    twilio's client is synchronous (requests): it is kept off the event loop.
    """

    def call() -> str:
        return str(client.messages.create(**params).sid)

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
