"""Staff alerts for urgent tickets: e-mail through a real SMTP conversation on 127.0.0.1."""

from __future__ import annotations

import asyncio
from email import message_from_string
from email.policy import default

from bot.alerts import SmtpSettings, StaffAlerter
from kernel.types import HandoffEvent, Urgency
from tests.fakes.smtp_server import FakeSMTP


async def test_urgent_ticket_sends_an_email_without_personal_data() -> None:
    smtp = FakeSMTP()
    server = await asyncio.start_server(smtp.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sent_to_telegram: list[tuple[str, str]] = []

    async def telegram_send(chat_id: str, replies) -> None:  # type: ignore[no-untyped-def]
        sent_to_telegram.append((chat_id, replies[0].text))

    alerter = StaffAlerter(
        "https://bot.example.org/admin/inbox",
        telegram_send=telegram_send,
        telegram_chat_id="-100123",
        smtp=SmtpSettings(
            "127.0.0.1", port, "bot@example.org", ("staff@example.org",), starttls=False
        ),
    )
    async with server:
        await alerter(HandoffEvent("K7P2QX", "trafficking_emergency", Urgency.CRITICAL, "whatsapp"))
        await alerter(HandoffEvent("ZZ99AA", "talk_to_human", Urgency.NORMAL, "telegram"))
    assert smtp.recipients == ["staff@example.org"]
    assert len(smtp.messages) == 1
    email = message_from_string(smtp.messages[0], policy=default)
    assert "K7P2QX" in str(email["Subject"])
    body = email.get_content()  # type: ignore[attr-defined]
    assert "K7P2QX" in body and "https://bot.example.org/admin/inbox" in body
    assert sent_to_telegram == [("-100123", sent_to_telegram[0][1])]
    assert "CRITICAL" in sent_to_telegram[0][1] and "ZZ99AA" not in sent_to_telegram[0][1]


async def test_a_flood_of_urgent_tickets_is_capped_and_summarised() -> None:
    sent: list[str] = []

    async def telegram_send(chat_id: str, replies) -> None:  # type: ignore[no-untyped-def]
        sent.append(replies[0].text)

    alerter = StaffAlerter("https://bot/admin/inbox", telegram_send, "-100", max_per_minute=3)
    for number in range(10):
        event = HandoffEvent(f"REF{number:03}", "trafficking_emergency", Urgency.CRITICAL, "web")
        await alerter(event)
    assert [text.split("ticket ")[1][:6] for text in sent] == ["REF000", "REF001", "REF002"]
    await alerter.aclose()  # the summary that would go out when the minute is over
    assert len(sent) == 4
    assert "7 more urgent tickets" in sent[-1] and "https://bot/admin/inbox" in sent[-1]
    assert alerter.metrics.value("ventanilla_staff_alerts_held_total") == 7
    assert alerter.metrics.value("ventanilla_staff_alerts_total") == 4
