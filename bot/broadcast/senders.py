"""Send one announcement to one person, per channel, within the platform's limits.

Each sender paces itself (a leaky bucket from `aiolimiter`, one message per
interval so there is never a burst), waits out 429s for as long as the platform
asks, retries server errors with back-off, and says when the person has
blocked the bot or opted out so the subscription can be removed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, cast

from aiolimiter import AsyncLimiter
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from bot.channels.telegram import CHANNEL as TELEGRAM
from bot.channels.twilio_common import RedirectingHttpClient
from bot.channels.webchat import CHANNEL as WEB
from bot.channels.whatsapp import SESSION_WINDOW, WhatsAppConfig
from bot.db.models import WebOutboxMessage, utcnow
from bot.db.subscriptions import Recipient

log = logging.getLogger(__name__)

# Pace a little under the ceiling: the platform counts arrivals, and network jitter
# can bring two of our evenly spaced requests closer together than we sent them.
HEADROOM = 0.9
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 0.5
MAX_WAIT_SECONDS = 60.0
TWILIO_OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient"


class Result(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    GONE = "gone"  # blocked the bot / opted out: remove the subscription


@dataclass(frozen=True)
class Outcome:
    result: Result
    mode: str = ""
    error: str = ""


class Sender(Protocol):
    async def send(self, recipient: Recipient, text: str) -> Outcome: ...


def pacer(per_second: float) -> AsyncLimiter:
    """One message per interval: `AsyncLimiter(1, 1/rate)` never lets a burst through."""
    return AsyncLimiter(1, 1.0 / (per_second * HEADROOM))


class TelegramSender:
    def __init__(self, bot: Bot, per_second: float, chat_seconds: float) -> None:
        self._bot = bot
        self._limiter = pacer(per_second)
        self._chat_seconds = chat_seconds
        self._last_by_chat: dict[str, float] = {}

    async def _chat_gap(self, chat_id: str) -> None:
        last = self._last_by_chat.get(chat_id)
        if last is not None:
            wait = last + self._chat_seconds - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)

    async def send(self, recipient: Recipient, text: str) -> Outcome:
        chat_id = recipient.address
        if not chat_id:
            return Outcome(Result.FAILED, error="no address")
        for attempt in range(MAX_ATTEMPTS):
            await self._chat_gap(chat_id)
            async with self._limiter:
                self._last_by_chat[chat_id] = time.monotonic()
                try:
                    await self._bot.send_message(chat_id=chat_id, text=text)
                    return Outcome(Result.SENT, TELEGRAM)
                except RetryAfter as exc:
                    wait = exc.retry_after
                    seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else wait
                    error = "rate limited"
                except Forbidden:
                    return Outcome(Result.GONE, error="blocked the bot")
                except BadRequest as exc:
                    return Outcome(Result.FAILED, error=f"refused: {exc.message}"[:64])
                except NetworkError as exc:  # 5xx and timeouts
                    seconds = BACKOFF_SECONDS * 2**attempt
                    error = f"network: {type(exc).__name__}"
                except TelegramError as exc:
                    return Outcome(Result.FAILED, error=f"refused: {exc.message}"[:64])
            # Waiting outside the limiter blocks this lane only; a 429 applies to all chats,
            # and this lane is the only one sending to Telegram, so the whole channel waits.
            log.warning("telegram broadcast: %s, waiting %.1fs", error, seconds)
            await asyncio.sleep(min(float(seconds), MAX_WAIT_SECONDS))
        return Outcome(Result.FAILED, error=error)


class HeaderKeepingClient(RedirectingHttpClient):
    """Twilio's exceptions drop the response headers; Retry-After is read from here."""

    last_headers: Mapping[str, str] = {}

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        response = super().request(method, url, *args, **kwargs)
        self.last_headers = dict(response.headers or {})
        return response


def _retry_after(headers: Mapping[str, str], default: float) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return float(value)
            except ValueError:
                return default
    return default


class TwilioSender:
    """WhatsApp through Twilio: free text inside the 24-hour window, the template outside."""

    def __init__(self, config: WhatsAppConfig, per_second: float) -> None:
        self._config = config
        self._limiter = pacer(per_second)
        self._http = HeaderKeepingClient(config.api_base_url, timeout=15)
        self._client = Client(config.account_sid, config.auth_token, http_client=self._http)

    async def send(self, recipient: Recipient, text: str) -> Outcome:
        to = recipient.address
        if not to:
            return Outcome(Result.FAILED, error="no address")
        now = utcnow()
        last = recipient.last_inbound_at
        inside = last is not None and now - last < SESSION_WINDOW
        if not inside and not self._config.template_sid:
            return Outcome(Result.FAILED, error="outside 24h window, no template")
        content: dict[str, str] = (
            {"body": text} if inside else {"content_sid": self._config.template_sid}
        )
        mode = "free_text" if inside else "template"

        def call() -> None:
            self._client.messages.create(to=to, from_=self._config.sender, **content)

        error = ""
        for attempt in range(MAX_ATTEMPTS):
            wait = BACKOFF_SECONDS * 2**attempt
            async with self._limiter:
                try:
                    await asyncio.to_thread(call)
                    return Outcome(Result.SENT, mode)
                except TwilioRestException as exc:
                    if exc.code == TWILIO_OPTED_OUT:
                        return Outcome(Result.GONE, error="opted out (21610)")
                    if exc.status != 429 and exc.status < 500:
                        return Outcome(Result.FAILED, error=f"refused ({exc.code})")
                    error = f"http {exc.status}"
                    wait = _retry_after(self._http.last_headers, wait)
                except (TwilioException, OSError) as exc:
                    error = f"network: {type(exc).__name__}"
            log.warning("twilio broadcast: %s, waiting %.1fs", error, wait)
            await asyncio.sleep(min(wait, MAX_WAIT_SECONDS))
        return Outcome(Result.FAILED, error=error)


_OUTBOX = cast(Table, WebOutboxMessage.__table__)


class WebSender:
    """The web chat page collects the announcement the next time it is opened."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def send(self, recipient: Recipient, text: str) -> Outcome:
        async with self._engine.begin() as connection:
            await connection.execute(
                insert(_OUTBOX),
                {"user_hash": recipient.user_hash, "text": text, "created_at": utcnow()},
            )
        return Outcome(Result.SENT, WEB)
