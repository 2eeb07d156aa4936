"""Alert staff at once when an urgent ticket opens: a Telegram group and/or e-mail.

Alerts carry the reference, reason and channel only, never the person's words
or address: staff open the inbox to read the conversation.

A flood of fake emergencies must not bury a real one under hundreds of
messages: at most `max_per_minute` alerts go out in any minute, and the excess
is sent as one summary ("N more urgent tickets") when the minute is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage

from bot.metrics import Metrics
from kernel.types import HandoffEvent, Reply, Urgency

log = logging.getLogger(__name__)
ALERT_URGENCIES = frozenset({Urgency.HIGH, Urgency.CRITICAL})
DEFAULT_MAX_PER_MINUTE = 5
SENT_METRIC = "ventanilla_staff_alerts_total"
HELD_METRIC = "ventanilla_staff_alerts_held_total"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    username: str = ""
    password: str = ""
    starttls: bool = True


def alert_text(event: HandoffEvent, inbox_url: str) -> str:
    return (
        f"[Ventanilla] {event.urgency.value.upper()}: ticket {event.reference}"
        f" ({event.reason}, {event.channel}). {inbox_url}"
    )


class StaffAlerter:
    def __init__(
        self,
        inbox_url: str,
        telegram_send: Callable[[str, list[Reply]], Awaitable[None]] | None = None,
        telegram_chat_id: str = "",
        smtp: SmtpSettings | None = None,
        max_per_minute: int = DEFAULT_MAX_PER_MINUTE,
        metrics: Metrics | None = None,
        window_seconds: float = 60.0,
    ) -> None:
        self._inbox_url = inbox_url
        self._telegram_send = telegram_send
        self._chat_id = telegram_chat_id
        self._smtp = smtp
        self._max = max(1, max_per_minute)
        self._window = window_seconds
        self._recent: deque[float] = deque()
        self._held = 0
        self._summary: asyncio.Task[None] | None = None
        self.metrics = metrics or Metrics()
        self.metrics.describe(SENT_METRIC, "Staff alerts sent (one per ticket, or a summary)")
        self.metrics.describe(HELD_METRIC, "Urgent tickets folded into a summary by the alert cap")
        self.sent: list[str] = []

    async def __call__(self, event: HandoffEvent) -> None:
        if event.urgency not in ALERT_URGENCIES:
            return
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= self._window:
            self._recent.popleft()
        if len(self._recent) >= self._max:
            self._held += 1
            self.metrics.inc(HELD_METRIC)
            log.warning("alert cap reached; ticket %s goes into the next summary", event.reference)
            if self._summary is None or self._summary.done():
                delay = self._recent[0] + self._window - now
                self._summary = asyncio.create_task(self._summary_after(delay))
            return
        self._recent.append(now)
        await self._send(alert_text(event, self._inbox_url), event.reference)

    async def _summary_after(self, delay: float) -> None:
        await asyncio.sleep(max(0.0, delay))
        await self.flush_summary()

    async def flush_summary(self) -> None:
        """One message for every urgent ticket the cap held back."""
        held, self._held = self._held, 0
        if held:
            text = f"[Ventanilla] {held} more urgent tickets opened; see {self._inbox_url}"
            await self._send(text, "summary")

    async def aclose(self) -> None:
        """Send a pending summary now rather than lose it on shutdown."""
        if self._summary is not None and not self._summary.done():
            self._summary.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._summary
        await self.flush_summary()

    async def _send(self, text: str, what: str) -> None:
        self.metrics.inc(SENT_METRIC)
        if self._telegram_send is not None and self._chat_id:
            try:
                await self._telegram_send(self._chat_id, [Reply(text)])
                self.sent.append("telegram")
            except Exception:
                log.exception("Telegram alert for %s failed", what)
        if self._smtp is not None:
            try:
                await asyncio.to_thread(self._email, text)
                self.sent.append("email")
            except Exception:
                log.exception("e-mail alert for %s failed", what)

    def _email(self, text: str) -> None:
        assert self._smtp is not None
        message = EmailMessage()
        message["Subject"] = text.split(". ")[0]
        message["From"] = self._smtp.sender
        message["To"] = ", ".join(self._smtp.recipients)
        message.set_content(text)
        with smtplib.SMTP(self._smtp.host, self._smtp.port, timeout=15) as client:
            if self._smtp.starttls:
                client.starttls()
            if self._smtp.username:
                client.login(self._smtp.username, self._smtp.password)
            client.send_message(message)
