"""SMS adapter through Twilio: for people without a data plan or a smartphone.

The same engine answers; this module makes the answer fit SMS. Every reply is
one message of at most three segments in the GSM-7 alphabet where possible
(`sms_text`); a longer answer is cut and the rest waits for "MAS". Carrier
keywords (STOP, START, HELP) are handled here, before the engine, because they
are about the SMS line itself; after STOP nothing is sent until START. Each
sender has a daily budget of outbound segments (`sms.max_segments_per_day`):
SMS costs money per segment, and a loop or an abuser must not run up the bill.
The emergency answer is never held back by that budget.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import yaml
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.render import numbered_text
from bot.channels.sms_text import fit, segments, to_gsm7
from bot.channels.twilio_common import RecordFailure, TwilioWebhook, create_message, rest_client
from bot.settings import Settings
from kernel.normalize import normalize_text
from kernel.types import (
    ContentStore,
    Delivery,
    Handle,
    IncomingMessage,
    MessageKind,
    Reply,
)
from kernel.types import Route as Answered  # starlette's Route names the webhook

log = logging.getLogger(__name__)

CHANNEL = "sms"
WEBHOOK_PATH = "/webhooks/sms"
STATUS_PATH = "/webhooks/sms/status"
MAX_SEGMENTS = 3
MORE_KEY = "sms_more"
STOPPED_KEY = "sms_stopped"
STARTED_KEY = "sms_started"
HELP_KEY = "sms_help"
LIMIT_KEY = "sms_daily_limit"

FirstTimeSeen = Callable[[str, str], Awaitable[bool]]


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    MORE = "more"


def _clean(text: str) -> str:
    return normalize_text(text).strip(" .!¡?¿")


@dataclass(frozen=True)
class SmsKeywords:
    """Whole-message keywords (`nlu/sms_keywords.yml`), each with the language to answer in."""

    words: Mapping[str, tuple[Keyword, str]]

    @classmethod
    def from_file(cls, path: Path) -> SmsKeywords:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        words: dict[str, tuple[Keyword, str]] = {}
        for keyword in Keyword:
            for language, listed in (data.get(keyword.value) or {}).items():
                for word in listed:
                    words[_clean(str(word))] = (keyword, str(language))
        return cls(words)

    def match(self, text: str) -> tuple[Keyword, str] | None:
        return self.words.get(_clean(text)) if text else None


@dataclass
class SmsAccount:
    """One sender's SMS bookkeeping; `segments` counts what was sent on `day`."""

    stopped: bool = False
    language: str | None = None
    day: dt.date | None = None
    segments: int = 0
    cap_notified: bool = False
    more: str = ""  # the rest of a long answer, sent on "MAS"
    more_preview: str = ""  # the neutral first line that answer had

    def start_day(self, day: dt.date) -> None:
        if self.day != day:
            self.day, self.segments, self.cap_notified = day, 0, False


class SmsLedger(Protocol):
    async def load(self, number: str) -> SmsAccount: ...

    async def save(self, number: str, account: SmsAccount) -> None: ...


@dataclass(frozen=True)
class SmsConfig:
    account_sid: str
    auth_token: str
    sender: str  # "+1415..." or a Messaging Service SID
    public_base_url: str
    max_segments_per_day: int = 20
    api_base_url: str = ""  # tests: where to send what is meant for Twilio's hosts

    @classmethod
    def from_settings(cls, settings: Settings) -> SmsConfig | None:
        """The channel's settings, or None when Twilio or its SMS sender is not configured."""
        twilio = settings.twilio
        if twilio is None or not twilio.sms_from:
            return None
        return cls(
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            sender=twilio.sms_from,
            public_base_url=settings.public_base_url,
            max_segments_per_day=settings.sms_max_segments_per_day,
            api_base_url=twilio.api_base_url,
        )


def incoming_from_form(form: Mapping[str, str]) -> IncomingMessage:
    """MMS pictures count as media; their URLs are read by nobody and stored nowhere."""
    try:
        media = int(form.get("NumMedia") or 0)
    except ValueError:
        media = 0
    return IncomingMessage(
        channel=CHANNEL,
        user_id=form.get("From", ""),
        text=form.get("Body", ""),
        kind=MessageKind.IMAGE if media > 0 and not form.get("Body") else MessageKind.TEXT,
        message_id=form.get("MessageSid") or None,
    )


def sms_body(replies: Sequence[Reply]) -> str:
    """All replies as one text, options as numbers, in GSM-7 where possible."""
    return to_gsm7("\n\n".join(numbered_text(reply) for reply in replies if reply.text))


def twiml(messages: Sequence[str]) -> Response:
    response = MessagingResponse()
    for message in messages:
        response.message(message)
    return Response(str(response), media_type="application/xml")


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class SmsChannel:
    def __init__(
        self,
        config: SmsConfig,
        handle: Handle,
        content: ContentStore,
        ledger: SmsLedger,
        keywords: SmsKeywords,
        first_time_seen: FirstTimeSeen,
        record_failure: RecordFailure,
        default_language: str = "es",
        today: Callable[[], dt.date] = _utc_today,
    ) -> None:
        """`today` dates the daily budget (UTC); tests pass a fixed day."""
        self.config = config
        self._handle = handle
        self._content = content
        self._ledger = ledger
        self._keywords = keywords
        self._first_time_seen = first_time_seen
        self._record_failure = record_failure
        self._today = today
        self._default_language = default_language
        self._webhook = TwilioWebhook(config.auth_token, config.public_base_url)
        self._client = rest_client(config.account_sid, config.auth_token, config.api_base_url)

    async def start(self) -> None:
        if not self.config.public_base_url:
            log.warning("PUBLIC_BASE_URL is not set: every SMS webhook will be refused")

    async def stop(self) -> None:
        return None

    def _text(self, language: str, key: str) -> str:
        return self._content.get(language, key).text.strip()

    def _wrap(self, preview: str, language: str) -> Callable[[str, bool], str]:
        hint = to_gsm7(self._text(language, MORE_KEY))
        first = to_gsm7(preview)

        def wrap(body: str, more: bool) -> str:
            lines = [first] if first else []
            lines.append(body)
            text = "\n".join(lines)
            return f"{text}\n\n{hint}" if more else text

        return wrap

    def routes(self) -> list[Route]:
        async def inbound(request: Request) -> Response:
            form = await self._webhook.authentic_form(request)
            if isinstance(form, Response):
                return form
            if not form.get("From"):
                return Response("missing From", status_code=400)
            return twiml(await self.answer(form))

        return [
            Route(WEBHOOK_PATH, inbound, methods=["POST"]),
            self._webhook.status_route(STATUS_PATH, CHANNEL, self._record_failure),
        ]

    async def answer(self, form: Mapping[str, str]) -> list[str]:
        """The SMS messages that answer one inbound SMS (possibly none)."""
        number = form["From"]
        account = await self._ledger.load(number)
        match = self._keywords.match(form.get("Body", ""))
        if match is not None:
            keyword, word_language = match
            handled = keyword is not Keyword.MORE or (account.more and not account.stopped)
            if handled:
                sid = form.get("MessageSid")
                if sid and not await self._first_time_seen(CHANNEL, sid):
                    return []  # Twilio retried a keyword already acted on
                language = account.language or word_language
                return await self._keyword(number, account, keyword, language)
        result = await self._handle(incoming_from_form(form))
        if result.duplicate or account.stopped:
            # After STOP nothing is sent; the engine still saw the message, so a
            # danger phrase still opens a ticket staff can act on.
            return []
        if result.route is Answered.DELETED:
            return [sms_body(result.replies)]  # nothing about this person is written again
        language = result.language or account.language or self._default_language
        account.language = language
        return await self._spend(
            number,
            account,
            sms_body(result.replies),
            result.preview,
            urgent=result.route.is_safety,
        )

    async def _keyword(
        self, number: str, account: SmsAccount, keyword: Keyword, language: str
    ) -> list[str]:
        if keyword is Keyword.MORE:
            rest, preview = account.more, account.more_preview
            account.more = account.more_preview = ""
            return await self._spend(number, account, rest, preview, urgent=False)
        if keyword is Keyword.STOP:
            account.stopped, account.more, account.more_preview = True, "", ""
            key = STOPPED_KEY
        elif keyword is Keyword.START:
            account.stopped = False
            key = STARTED_KEY
        else:
            key = HELP_KEY
        # Carriers require these confirmations: they are sent whatever the budget.
        message = to_gsm7(self._text(language, key))
        account.start_day(self._today())
        account.segments += segments(message)
        await self._ledger.save(number, account)
        return [message]

    async def _spend(
        self, number: str, account: SmsAccount, body: str, preview: str, urgent: bool
    ) -> list[str]:
        """One message of at most MAX_SEGMENTS within the day's budget; the rest waits."""
        if not body.strip():
            return []
        language = account.language or self._default_language
        wrap = self._wrap(preview, language)
        message, rest = fit(body, MAX_SEGMENTS, wrap)
        cost = segments(message)
        account.start_day(self._today())
        cap = self.config.max_segments_per_day
        # One segment stays free for the message that says the budget is spent.
        if not urgent and account.segments + cost > cap - 1:
            account.more, account.more_preview = body, preview  # "MAS" tomorrow gives it
            messages: list[str] = []
            if not account.cap_notified:
                notice = to_gsm7(self._text(language, LIMIT_KEY))
                account.cap_notified = True
                account.segments += segments(notice)
                messages.append(notice)
        else:
            account.segments += cost
            account.more, account.more_preview = rest, (preview if rest else "")
            messages = [message]
        await self._ledger.save(number, account)
        return messages

    async def deliver(self, to: str, replies: Sequence[Reply]) -> Delivery:
        """Staff replies from the inbox, through the REST API (SMS has no service window)."""
        account = await self._ledger.load(to)
        if account.stopped:
            return Delivery(False, "not_sent", "the person sent STOP: no SMS may be sent")
        callback = (
            self.config.public_base_url.rstrip("/") + STATUS_PATH
            if self.config.public_base_url
            else None
        )
        rest = sms_body(replies)
        sent = 0
        account.start_day(self._today())
        try:
            while rest:
                message, rest = fit(rest, MAX_SEGMENTS, lambda body, _more: body)
                extra = {"status_callback": callback} if callback else {}
                await create_message(
                    self._client, to=to, from_=self.config.sender, body=message, **extra
                )
                account.segments += segments(message)
                sent += 1
        except TwilioRestException as exc:
            return Delivery(False, "not_sent", f"Twilio refused the message ({exc.code})")
        except (TwilioException, OSError) as exc:
            reason = f"Twilio could not be reached ({type(exc).__name__})"
            return Delivery(False, "not_sent", reason)
        finally:
            if sent:
                await self._ledger.save(to, account)
        return Delivery(True, CHANNEL, f"{sent} SMS sent")
