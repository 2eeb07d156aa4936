"""The SMS channel: requests signed exactly as Twilio signs them, posted to the real app on
127.0.0.1; a fake Twilio REST API receives what the real twilio client sends for staff.

GSM-7 and segment counts are checked against the GSM 03.38 table written out here from
the standard, not against the library the channel uses."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bot.channels.sms import SmsChannel, SmsConfig, SmsKeywords, sms_body
from bot.channels.sms_text import fit, segments, to_gsm7
from bot.content import FileContentStore
from bot.db import engine as db
from bot.db.models import DeliveryFailure, Message, SmsLedger
from bot.db.sms_ledger import SqlSmsLedger
from bot.db.store import SqlStore
from bot.settings import Settings
from kernel.types import Reply
from tests.bot.channels.conftest import ChannelStack, count_rows
from tests.conftest import ScriptedClassifier
from tests.fakes.twilio_api import FakeTwilioAPI

SID = "AC" + "2" * 32
TOKEN = "twilio-sms-token-for-tests"
PUBLIC = "https://bot.example.org"
PHONE = "+50370001234"
SENDER = "+15005550006"
DAILY_SEGMENTS = 60
CAP = 8  # the budget in the test that spends it

# GSM 03.38 default alphabet and its extension table (3GPP TS 23.038, 6.2.1).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"


def gsm_septets(text: str) -> int:
    """Septets of a GSM-7 text; fails the test on a character outside the alphabet."""
    outside = {c for c in text if c not in GSM_BASIC and c not in GSM_EXTENSION}
    assert not outside, f"not GSM-7: {sorted(outside)}"
    return sum(2 if c in GSM_EXTENSION else 1 for c in text)


def gsm_segments(text: str) -> int:
    count = gsm_septets(text)
    return 1 if count <= 160 else math.ceil(count / 153)


@dataclass
class Clock:
    day: dt.date = dt.date(2026, 12, 2)

    def __call__(self) -> dt.date:
        return self.day


@dataclass
class Stack:
    url: str
    api: FakeTwilioAPI
    classifier: ScriptedClassifier
    database_url: str
    channel: SmsChannel
    store: SqlStore
    clock: Clock
    _sid: int = 0
    sent: list[str] = field(default_factory=list)

    def post(
        self, path: str = "/webhooks/sms", sign: bool = True, token: str = TOKEN, **params: str
    ) -> httpx.Response:
        headers = {}
        if sign:
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(
                PUBLIC + path, params
            )
        return httpx.post(self.url + path, data=params, headers=headers, timeout=10)

    def sms(self, body: str, sid: str | None = None, phone: str = PHONE) -> list[str]:
        self._sid += 1
        response = self.post(
            MessageSid=sid or f"SM{self._sid:032d}",
            AccountSid=SID,
            From=phone,
            To=SENDER,
            Body=body,
            NumMedia="0",
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/xml")
        root = ET.fromstring(response.text)
        assert root.tag == "Response"
        messages = [m.text or "" for m in root.findall("Message")]
        self.sent.extend(messages)
        return messages

    def count(self, model: type) -> int:
        return count_rows(self.database_url, model)


@pytest.fixture
def stack(channel_stack: ChannelStack, content: FileContentStore, settings: Settings) -> Stack:
    api = FakeTwilioAPI(SID, TOKEN)
    api_url = channel_stack.serve(api.app())
    base = channel_stack.base
    clock = Clock()
    channel = SmsChannel(
        SmsConfig(
            SID,
            TOKEN,
            SENDER,
            PUBLIC,
            max_segments_per_day=DAILY_SEGMENTS,
            api_base_url=api_url,
        ),
        base.dispatcher.handle,
        content,
        SqlSmsLedger(base.engine, base.protector),
        SmsKeywords.from_file(settings.nlu.config.parent / "sms_keywords.yml"),
        base.store.first_time_seen,
        base.store.record_delivery_failure,
        today=clock,
    )
    url = channel_stack.serve_app(channel)
    return Stack(url, api, base.classifier, base.url, channel, base.store, clock)


def without_hint(message: str, hint: str) -> str:
    return message.removesuffix(hint).rstrip()


# -- the GSM-7 helpers on their own ------------------------------------------------------


def test_spanish_letters_outside_gsm7_lose_their_accent_and_the_rest_stays() -> None:
    text = "¿Dónde está la oficina de Migración? ¡Aquí! Señora, pingüino, café, «ya» — €"
    plain = to_gsm7(text)
    assert plain == '¿Donde esta la oficina de Migracion? ¡Aqui! Señora, pingüino, café, "ya" - €'
    assert gsm_septets(plain) == len(plain) + 1  # € is an extension character
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2 and segments("a" * 307) == 3
    assert segments("á" * 70) == 1 and segments("á" * 71) == 2  # UCS-2 when not transliterated
    assert to_gsm7("ayuda 🙏") == "ayuda 🙏"  # no GSM-7 equivalent: kept, sent as UCS-2
    assert segments("ayuda 🙏") == 1


def test_fit_cuts_at_a_boundary_and_keeps_every_word() -> None:
    text = " ".join(f"Frase numero {i} de una respuesta larga." for i in range(60))

    def wrap(body: str, more: bool) -> str:
        return body + ("\n\nResponde MAS" if more else "")

    parts: list[str] = []
    rest = text
    while rest:
        message, rest = fit(rest, 3, wrap)
        assert gsm_segments(message) <= 3
        assert message.endswith("Responde MAS") == bool(rest)
        parts.append(message.removesuffix("\n\nResponde MAS"))
    assert len(parts) >= 4
    assert " ".join(parts).split() == text.split()


# -- the channel end to end ------------------------------------------------------------


def test_unsigned_or_wrongly_signed_requests_are_refused(stack: Stack) -> None:
    assert stack.post(sign=False, From=PHONE, Body="hola", MessageSid="SMx1").status_code == 403
    wrong = stack.post(token="not-the-token", From=PHONE, Body="hola", MessageSid="SMx2")
    assert wrong.status_code == 403
    assert stack.count(Message) == 0 and stack.count(SmsLedger) == 0


def test_signed_sms_is_answered_in_gsm7_within_three_segments_and_mas_gives_the_rest(
    stack: Stack, content: FileContentStore
) -> None:
    stack.classifier.say("como saco mi pasaporte", "documents")
    first = stack.sms("como saco mi pasaporte")
    assert len(first) == 1
    hint = to_gsm7(content.get("es", "sms_more").text.strip())
    # First contact: the privacy notice and the answer do not fit three segments.
    assert gsm_segments(first[0]) <= 3 and first[0].endswith(hint)
    assert first[0].startswith(to_gsm7(content.get("es", "privacy_notice").text.strip())[:60])
    parts = [without_hint(first[0], hint)]
    for _ in range(10):
        more = stack.sms("MAS")
        assert len(more) == 1 and gsm_segments(more[0]) <= 3
        parts.append(without_hint(more[0], hint))
        if not more[0].endswith(hint):
            break
    else:
        pytest.fail("MAS never reached the end of the answer")
    expected = sms_body(
        [
            Reply(content.get("es", "privacy_notice").text),
            stack_reply(content, "documents"),
        ]
    )
    assert " ".join(parts).split() == expected.split()
    assert "1. " in parts[-1]  # options became numbers
    # Once the answer is complete, "más" is an ordinary message for the engine again.
    assert stack.classifier.asked[-1] == "como saco mi pasaporte"
    stack.sms("más")
    assert stack.classifier.asked[-1] == "más"


def stack_reply(content: FileContentStore, key: str) -> Reply:
    from handlers.answers import answer

    return answer(content, "es", key)


def test_a_numbered_option_picks_the_topic(stack: Stack, content: FileContentStore) -> None:
    stack.classifier.say("hola", "greet")
    stack.sms("hola")
    stack.classifier.say("pasaporte", "documents")
    stack.sms("pasaporte")
    option = content.get("es", "documents").options[0]
    answer = stack.sms("1")[0]
    assert answer.startswith(to_gsm7(content.get("es", option).text.strip())[:40])


def test_stop_stops_everything_and_start_resumes(stack: Stack, content: FileContentStore) -> None:
    stack.classifier.say("hola", "greet")
    stack.sms("hola")
    assert stack.sms("STOP") == [to_gsm7(content.get("es", "sms_stopped").text.strip())]
    assert stack.sms("hola") == []
    assert stack.sms("pasaporte") == []
    # HELP is answered even after STOP, as carriers require.
    assert stack.sms("ayuda") == [to_gsm7(content.get("es", "sms_help").text.strip())]
    staff = asyncio.run(stack.channel.deliver(PHONE, [Reply("Hola, soy Ana.")]))
    assert not staff.sent and "STOP" in staff.reason and stack.api.messages == []
    assert stack.sms("Start") == [to_gsm7(content.get("es", "sms_started").text.strip())]
    assert stack.sms("hola") != []


def test_a_retried_keyword_is_acted_on_once(stack: Stack) -> None:
    stack.classifier.say("pasaporte", "documents")
    stack.sms("pasaporte")
    once = stack.sms("MAS", sid="SM" + "7" * 32)
    again = stack.sms("MAS", sid="SM" + "7" * 32)
    assert once and again == []


def test_the_daily_budget_holds_with_a_last_message_saying_so(
    stack: Stack, content: FileContentStore
) -> None:
    stack.channel.config = dataclasses.replace(stack.channel.config, max_segments_per_day=CAP)
    notice = to_gsm7(content.get("es", "sms_daily_limit").text.strip())
    stack.classifier.say("pasaporte", "documents")
    answered = [stack.sms("pasaporte") for _ in range(8)]
    spent = sum(gsm_segments(m) for messages in answered for m in messages)
    assert spent <= CAP
    flat = [m for messages in answered for m in messages]
    assert flat[-1] == notice and flat.count(notice) == 1
    assert answered[-1] == []  # after the notice, silence for the rest of the day
    # The emergency answer is never held back by the budget.
    emergency = stack.sms("me tienen encerrada y no me dejan salir")
    assert emergency and "911" in emergency[0]
    stack.clock.day += dt.timedelta(days=1)
    assert stack.sms("pasaporte") != []


def test_staff_reply_reaches_the_person_by_sms(stack: Stack) -> None:
    stack.classifier.say("hola", "greet")
    stack.sms("hola")
    text = "Hola, soy Ana del equipo. ¿Podés llamar mañana a la oficina? " * 12
    outcome = asyncio.run(stack.channel.deliver(PHONE, [Reply(text.strip())]))
    assert outcome.sent
    sent = stack.api.messages
    assert len(sent) >= 2 and all(m["To"] == PHONE and m["From"] == SENDER for m in sent)
    assert all(gsm_segments(m["Body"]) <= 3 for m in sent)
    assert " ".join(m["Body"] for m in sent).split() == to_gsm7(text).split()
    assert sent[0]["StatusCallback"] == PUBLIC + "/webhooks/sms/status"


def test_status_callback_records_failed_delivery(stack: Stack) -> None:
    path = "/webhooks/sms/status"
    assert stack.post(path, sign=False, MessageSid="SM1", MessageStatus="failed").status_code == 403
    failed = stack.post(path, MessageSid="SM" + "5" * 32, MessageStatus="failed", ErrorCode="30003")
    assert failed.status_code == 204
    assert stack.post(path, MessageSid="SM6", MessageStatus="delivered").status_code == 204
    assert stack.count(DeliveryFailure) == 1


def test_the_number_is_never_stored_and_erasure_reaches_the_sms_ledger(stack: Stack) -> None:
    stack.classifier.say("pasaporte", "documents")
    stack.sms("pasaporte")
    engine = db.make_sync_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            dump = " ".join(
                str(value)
                for table in ("users", "messages", "processed_messages", "sms_ledger")
                for row in connection.exec_driver_sql(f"SELECT * FROM {table}")
                for value in row
            )
    finally:
        engine.dispose()
    assert "70001234" not in dump
    assert stack.count(SmsLedger) == 1
    asyncio.run(stack.store.forget("sms", PHONE))
    assert stack.count(SmsLedger) == 0


def test_retention_purge_keeps_stop_and_drops_the_rest(stack: Stack) -> None:
    stack.classifier.say("pasaporte", "documents")
    stack.sms("pasaporte")
    stack.sms("STOP", phone="+50370005555")
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=40)
    asyncio.run(stack.store.purge(30, now=later))
    assert stack.count(SmsLedger) == 1  # the STOP, nothing else
    assert stack.sms("hola", phone="+50370005555") == []


def test_an_mms_picture_is_media(stack: Stack, content: FileContentStore) -> None:
    stack.classifier.say("hola", "greet")
    stack.sms("hola")  # the privacy notice comes with the first answer
    stack._sid += 1
    response = stack.post(
        MessageSid=f"SM{stack._sid:032d}",
        From=PHONE,
        Body="",
        NumMedia="1",
        MediaContentType0="image/jpeg",
    )
    assert to_gsm7(content.get("es", "unsupported_media").text.strip())[:30] in response.text


def test_discreet_mode_puts_the_neutral_line_first_in_every_sms(
    stack: Stack, content: FileContentStore
) -> None:
    neutral = to_gsm7(content.get("es", "discreet_preview").text.strip())
    stack.classifier.say("hola", "greet")
    stack.sms("hola")
    stack.classifier.say("pasaporte", "documents")
    replies = stack.sms("modo discreto") + stack.sms("pasaporte") + stack.sms("MAS")
    assert len(replies) == 3
    assert all(reply.split("\n")[0] == neutral for reply in replies)
    assert all(gsm_segments(reply) <= 3 for reply in replies)
