"""The WhatsApp channel: requests signed exactly as Twilio signs them, posted to the real app;
a fake Twilio REST API on 127.0.0.1 receives what the real twilio client sends."""

from __future__ import annotations

import asyncio
import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bot.channels.whatsapp import (
    MAX_PART_CHARS,
    SendMode,
    WhatsAppChannel,
    WhatsAppConfig,
    twiml_for,
)
from bot.content import FileContentStore
from bot.db import engine as db
from bot.db.models import DeliveryFailure, Message
from bot.db.store import SqlStore
from kernel.types import Reply
from tests.bot.channels.conftest import ChannelStack, count_rows
from tests.conftest import ScriptedClassifier
from tests.fakes.twilio_api import FakeTwilioAPI

SID = "AC" + "1" * 32
TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "https://bot.example.org"
PHONE = "whatsapp:+50370009999"
SENDER = "whatsapp:+14155238886"


@dataclass
class Stack:
    url: str
    api: FakeTwilioAPI
    classifier: ScriptedClassifier
    database_url: str
    channel: WhatsAppChannel
    store: SqlStore
    _sid: int = 0

    def post(
        self, path: str = "/webhooks/whatsapp", sign: bool = True, token: str = TOKEN, **params: str
    ) -> httpx.Response:
        headers = {}
        if sign:
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(
                PUBLIC + path, params
            )
        return httpx.post(self.url + path, data=params, headers=headers, timeout=10)

    def message(self, body: str = "", sid: str | None = None, **extra: str) -> httpx.Response:
        self._sid += 1
        params = {
            "MessageSid": sid or f"SM{self._sid:032d}",
            "AccountSid": SID,
            "From": PHONE,
            "To": SENDER,
            "Body": body,
            "NumMedia": "0",
            "ProfileName": "Maria Lopez",
            **extra,
        }
        return self.post(**params)

    def count(self, model: type) -> int:
        return count_rows(self.database_url, model)


def texts(response: httpx.Response) -> list[str]:
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


@pytest.fixture
def stack(channel_stack: ChannelStack, content: FileContentStore) -> Stack:
    api = FakeTwilioAPI(SID, TOKEN)
    api_url = channel_stack.serve(api.app())
    base = channel_stack.base
    config = WhatsAppConfig(
        SID, TOKEN, SENDER, PUBLIC, template_sid="HX" + "0" * 32, api_base_url=api_url
    )
    channel = WhatsAppChannel(
        config,
        base.dispatcher.handle,
        base.store.contact_state,
        base.store.record_delivery_failure,
        content,
    )
    url = channel_stack.serve_app(channel)
    return Stack(url, api, base.classifier, base.url, channel, base.store)


def test_unsigned_or_wrongly_signed_requests_are_refused(stack: Stack) -> None:
    assert stack.post(sign=False, From=PHONE, Body="hola", MessageSid="SMx1").status_code == 403
    assert (
        stack.post(token="not-the-token", From=PHONE, Body="hola", MessageSid="SMx2").status_code
        == 403
    )
    assert stack.count(Message) == 0
    assert stack.api.messages == []


def test_a_body_far_larger_than_twilio_sends_is_refused_unread(stack: Stack) -> None:
    huge = httpx.post(
        stack.url + "/webhooks/whatsapp",
        content=b"Body=" + b"a" * (300 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert huge.status_code == 413
    assert stack.count(Message) == 0


def test_signed_message_gets_the_answer_in_twiml(stack: Stack, content: FileContentStore) -> None:
    stack.classifier.say("como saco mi pasaporte", "documents")
    response = stack.message("como saco mi pasaporte")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    parts = texts(response)
    assert parts[0] == content.get("es", "privacy_notice").text
    entry = content.get("es", "documents")
    assert parts[-1].startswith(entry.text)
    first_option = content.get("es", entry.options[0]).title
    assert f"\n1. {first_option}" in parts[-1]  # buttons degrade to numbered text
    assert stack.count(Message) > 0


def test_numbered_reply_picks_the_option(stack: Stack, content: FileContentStore) -> None:
    stack.classifier.say("como saco mi pasaporte", "documents")
    stack.message("como saco mi pasaporte")
    option = content.get("es", "documents").options[0]
    assert texts(stack.message("1"))[-1].startswith(content.get("es", option).text)


def test_same_message_sid_three_times_is_answered_once(stack: Stack) -> None:
    stack.classifier.say("hola", "greet")
    answers = [texts(stack.message("hola", sid="SM" + "9" * 32)) for _ in range(3)]
    assert answers[0] and answers[1] == [] and answers[2] == []


def test_media_voice_and_location_are_answered(stack: Stack, content: FileContentStore) -> None:
    voice = stack.message(
        "", NumMedia="1", MediaContentType0="audio/ogg", MediaUrl0="https://api.twilio.com/media/x"
    )
    assert texts(voice)[-1].startswith(content.get("es", "unsupported_media").text)
    location = stack.message("", Latitude="13.69", Longitude="-89.19")
    assert texts(location)[-1] == content.get("es", "location_received").text


def test_profile_name_and_phone_number_are_not_stored(stack: Stack) -> None:
    stack.classifier.say("hola", "greet")
    stack.message("hola")
    engine = db.make_sync_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            dump = " ".join(
                str(value)
                for table in ("users", "messages", "processed_messages")
                for row in connection.exec_driver_sql(f"SELECT * FROM {table}")
                for value in row
            )
    finally:
        engine.dispose()
    assert "Maria" not in dump and "70009999" not in dump


def test_stop_and_start(stack: Stack, content: FileContentStore) -> None:
    assert texts(stack.message("BAJA"))[-1] == content.get("es", "opt_out_done").text
    _, opted_out = asyncio.run(stack.store.contact_state("whatsapp", PHONE))
    assert opted_out
    assert texts(stack.message("alta"))[-1].startswith(content.get("es", "opt_in_done").text)
    _, opted_out = asyncio.run(stack.store.contact_state("whatsapp", PHONE))
    assert not opted_out


def test_long_answer_is_split_in_order_under_the_limit() -> None:
    sentences = [f"Frase numero {i} de una respuesta larga." for i in range(130)]
    text = " ".join(sentences)
    assert len(text) >= 5000
    parts = texts(httpx.Response(200, text=twiml_for([Reply(text)])))
    assert len(parts) >= 4 and all(len(p) <= MAX_PART_CHARS for p in parts)
    assert " ".join(parts).split() == text.split()


def test_staff_message_inside_the_window_is_free_text(stack: Stack) -> None:
    stack.classifier.say("hola", "greet")
    stack.message("hola")
    outcome = asyncio.run(stack.channel.send(PHONE, [Reply("Hola, soy Ana del equipo.")]))
    assert outcome.mode is SendMode.FREE_TEXT and outcome.sent
    sent = stack.api.messages[-1]
    assert sent["To"] == PHONE and sent["From"] == SENDER
    assert sent["Body"] == "Hola, soy Ana del equipo."
    assert sent["StatusCallback"] == PUBLIC + "/webhooks/whatsapp/status"


def test_staff_message_outside_the_window_uses_the_template(stack: Stack) -> None:
    stack.classifier.say("hola", "greet")
    stack.message("hola")
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=25)
    outcome = asyncio.run(stack.channel.send(PHONE, [Reply("Seguimiento")], now=later))
    assert outcome.mode is SendMode.TEMPLATE and "24-hour" in outcome.reason
    assert stack.api.messages[-1]["ContentSid"] == stack.channel.config.template_sid
    assert "Body" not in stack.api.messages[-1]


def test_a_message_that_cannot_be_sent_says_why(stack: Stack) -> None:
    never_wrote = asyncio.run(stack.channel.send("whatsapp:+50370000000", [Reply("x")]))
    assert never_wrote.mode is SendMode.TEMPLATE  # template configured
    stack.api.refuse_with = 63016
    stack.classifier.say("hola", "greet")
    stack.message("hola")
    refused = asyncio.run(stack.channel.send(PHONE, [Reply("x")]))
    assert not refused.sent and "63016" in refused.reason


def test_status_callback_records_failed_delivery(stack: Stack) -> None:
    path = "/webhooks/whatsapp/status"
    assert stack.post(path, sign=False, MessageSid="SM1", MessageStatus="failed").status_code == 403
    ok = stack.post(
        path, MessageSid="SM" + "5" * 32, MessageStatus="undelivered", ErrorCode="63024"
    )
    assert ok.status_code == 204
    assert stack.post(path, MessageSid="SM6", MessageStatus="delivered").status_code == 204
    assert stack.count(DeliveryFailure) == 1


def test_outside_the_window_without_template_nothing_is_sent_and_the_reason_is_given(
    stack: Stack,
) -> None:
    import dataclasses

    bare = WhatsAppChannel(
        dataclasses.replace(stack.channel.config, template_sid=""),
        stack.channel._handle,
        stack.store.contact_state,
        stack.store.record_delivery_failure,
    )
    outcome = asyncio.run(bare.send("whatsapp:+50370000001", [Reply("x")]))
    assert not outcome.sent and "no approved template" in outcome.reason
    assert stack.api.messages == []


def test_twilio_server_errors_are_retried(stack: Stack) -> None:
    stack.classifier.say("hola", "greet")
    stack.message("hola")
    stack.api.fail_next = 2
    outcome = asyncio.run(stack.channel.send(PHONE, [Reply("Seguimos en contacto.")]))
    assert outcome.sent and stack.api.messages[-1]["Body"] == "Seguimos en contacto."


def test_discreet_mode_puts_the_neutral_line_first_in_every_message(
    stack: Stack, content: FileContentStore
) -> None:
    import functools

    from bot.outbound import Outbound, staff_preview

    neutral = content.get("es", "discreet_preview").text.strip()
    stack.classifier.say("como saco mi pasaporte", "documents")
    switched = texts(stack.message("modo discreto"))
    answered = texts(stack.message("como saco mi pasaporte"))
    assert switched and answered
    assert all(part.split("\n")[0] == neutral for part in switched + answered)
    assert content.get("es", "documents").text.strip() in answered[-1]
    # Staff replies reach the same lock screen: they start with the line too.
    outbound = Outbound(functools.partial(staff_preview, stack.store, content, "es"))
    outbound.register("whatsapp", stack.channel.deliver)
    delivery = asyncio.run(outbound.send("whatsapp", PHONE, [Reply("Hola, soy Ana.")]))
    assert delivery.sent
    assert stack.api.messages[-1]["Body"] == f"{neutral}\n\nHola, soy Ana."
    assert texts(stack.message("modo normal"))[-1] == content.get("es", "discreet_off").text


def test_safety_answer_says_how_to_delete_the_chat_and_offers_discreet_mode(
    stack: Stack, content: FileContentStore
) -> None:
    parts = texts(stack.message("me tienen encerrada y no me dejan salir"))
    emergency = next(p for p in parts if "911" in p)
    tip = content.get("es", "whatsapp_safety_tip").text.strip()
    assert tip in emergency
    assert content.get("es", "discreet_on").title in emergency  # a numbered option
