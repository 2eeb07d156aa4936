"""Twilio's SMS webhook form -> IncomingMessage, and the carrier keywords, as tables: no server,
no event loop. The signed webhook, the segment budget and GSM-7 are in test_sms.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.sms import CHANNEL, Keyword, SmsKeywords, incoming_from_form
from bot.channels.twilio_common import form_from_body
from bot.settings import Settings
from kernel.types import IncomingMessage, MessageKind

PHONE = "+50370001234"
SID = "SM" + "2" * 32


def form(body: str = "", media: str = "0", **fields: str) -> dict[str, str]:
    """What Twilio posts for one inbound SMS or MMS (a subset of its fields)."""
    return {
        "MessageSid": SID,
        "AccountSid": "AC" + "2" * 32,
        "From": PHONE,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": media,
        "NumSegments": "1",
        "FromCountry": "SV",
        **fields,
    }


def seen(text: str = "", kind: MessageKind = MessageKind.TEXT) -> IncomingMessage:
    return IncomingMessage(channel=CHANNEL, user_id=PHONE, text=text, kind=kind, message_id=SID)


HUGE = "necesito ayuda con mi pasaporte " * 50  # ten concatenated segments and more
ROWS: dict[str, tuple[dict[str, str], IncomingMessage]] = {
    "text": (form("como saco mi pasaporte"), seen("como saco mi pasaporte")),
    "a number picks an option": (form("1"), seen("1")),
    "accents and emoji": (form("¿Dónde está? 🙏"), seen("¿Dónde está? 🙏")),
    "empty": (form(""), seen("")),
    "huge concatenated SMS is passed whole": (form(HUGE), seen(HUGE)),
    "binary-ish": (form("\x00\x1b\ufffd"), seen("\x00\x1b\ufffd")),
    "a keyword is still text for the engine": (form("STOP"), seen("STOP")),
    "MMS picture": (
        form("", "1", MediaContentType0="image/jpeg", MediaUrl0="https://api.twilio.com/m"),
        seen(kind=MessageKind.IMAGE),
    ),
    "MMS voice recording counts as media too": (
        form("", "1", MediaContentType0="audio/amr"),
        seen(kind=MessageKind.IMAGE),
    ),
    "MMS with words: the words are answered": (
        form("me tienen encerrada", "1", MediaContentType0="image/jpeg"),
        seen("me tienen encerrada"),
    ),
    "NumMedia that is not a number": (form("hola", "x"), seen("hola")),
    "NumMedia missing": ({k: v for k, v in form("").items() if k != "NumMedia"}, seen("")),
    "no MessageSid": (
        {k: v for k, v in form("hola").items() if k != "MessageSid"},
        IncomingMessage(channel=CHANNEL, user_id=PHONE, text="hola"),
    ),
    "unknown fields are ignored": (form("hola", FromCity="SAN SALVADOR", X="y"), seen("hola")),
}


@pytest.mark.parametrize(("fields", "expected"), ROWS.values(), ids=ROWS.keys())
def test_form_becomes_the_message_the_engine_sees(
    fields: dict[str, str], expected: IncomingMessage
) -> None:
    assert incoming_from_form(fields) == expected


def test_a_raw_body_with_bytes_that_are_not_utf8_is_read() -> None:
    fields = form_from_body(b"From=%2B50370001234&Body=hola%FF+amiga&MessageSid=" + SID.encode())
    assert fields is not None
    assert incoming_from_form(fields) == IncomingMessage(
        channel=CHANNEL, user_id=PHONE, text="hola\ufffd amiga", message_id=SID
    )


@pytest.fixture(scope="module")
def keywords(settings: Settings) -> SmsKeywords:
    path: Path = settings.nlu.config.parent / "sms_keywords.yml"
    return SmsKeywords.from_file(path)


# Whole-message carrier keywords: (what the person typed, the keyword, the answer's language)
KEYWORDS: dict[str, tuple[str, tuple[Keyword, str] | None]] = {
    "STOP": ("STOP", (Keyword.STOP, "es")),
    "stop in lower case": ("stop", (Keyword.STOP, "es")),
    "Spanish stop": ("BAJA", (Keyword.STOP, "es")),
    "English opt-out word": ("CANCEL", (Keyword.STOP, "en")),
    "START": ("START", (Keyword.START, "es")),
    "Start mixed case": ("Start", (Keyword.START, "es")),
    "English start word": ("resume", (Keyword.START, "en")),
    "HELP": ("HELP", (Keyword.HELP, "en")),
    "Spanish help": ("ayuda", (Keyword.HELP, "es")),
    "MAS": ("MAS", (Keyword.MORE, "es")),
    "más with the accent": ("más", (Keyword.MORE, "es")),
    "with punctuation": ("¡MAS!", (Keyword.MORE, "es")),
    "MORE": ("MORE", (Keyword.MORE, "en")),
    "inside a sentence is not a keyword": ("quiero mas informacion", None),
    "empty": ("", None),
    "a number": ("1", None),
    "binary-ish": ("\x00STOP", None),
}


@pytest.mark.parametrize(("typed", "expected"), KEYWORDS.values(), ids=KEYWORDS.keys())
def test_carrier_keywords_are_whole_messages(
    keywords: SmsKeywords, typed: str, expected: tuple[Keyword, str] | None
) -> None:
    assert keywords.match(typed) == expected
