"""Alert staff at once when an urgent ticket opens: a Telegram group and/or e-mail.

Alerts carry the reference, reason and channel only, never the person's words
or address: staff open the inbox to read the conversation.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage

from bot.core import Reply, Urgency
from bot.dispatcher import HandoffEvent

log = logging.getLogger(__name__)
ALERT_URGENCIES = frozenset({Urgency.HIGH, Urgency.CRITICAL})


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
    ) -> None:
        self._inbox_url = inbox_url
        self._telegram_send = telegram_send
        self._chat_id = telegram_chat_id
        self._smtp = smtp
        self.sent: list[str] = []

    async def __call__(self, event: HandoffEvent) -> None:
        if event.urgency not in ALERT_URGENCIES:
            return
        text = alert_text(event, self._inbox_url)
        if self._telegram_send is not None and self._chat_id:
            try:
                await self._telegram_send(self._chat_id, [Reply(text)])
                self.sent.append("telegram")
            except Exception:
                log.exception("Telegram alert for %s failed", event.reference)
        if self._smtp is not None:
            try:
                await asyncio.to_thread(self._email, text)
                self.sent.append("email")
            except Exception:
                log.exception("e-mail alert for %s failed", event.reference)

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
