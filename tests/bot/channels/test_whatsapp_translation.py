"""Twilio's WhatsApp webhook form -> IncomingMessage as a table: no server, no event loop.
The signed webhook end to end is in test_whatsapp.py."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from bot.channels.twilio_common import MAX_FORM_BYTES, form_from_body
from bot.channels.whatsapp import CHANNEL, incoming_from_form
from kernel.types import IncomingMessage, MessageKind

PHONE = "whatsapp:+50370009999"
SID = "SM" + "1" * 32


def form(body: str = "", media: str = "0", **fields: str) -> dict[str, str]:
    """What Twilio posts for one inbound WhatsApp message (a subset of its fields)."""
    return {
        "MessageSid": SID,
        "AccountSid": "AC" + "1" * 32,
        "From": PHONE,
        "To": "whatsapp:+14155238886",
        "Body": body,
        "NumMedia": media,
        "ProfileName": "Maria Lopez",
        "WaId": "50370009999",
        **fields,
    }


def seen(
    text: str = "", kind: MessageKind = MessageKind.TEXT, payload: str | None = None
) -> IncomingMessage:
    return IncomingMessage(
        channel=CHANNEL, user_id=PHONE, text=text, kind=kind, message_id=SID, payload=payload
    )


def media(content_type: str, body: str = "") -> dict[str, str]:
    return form(
        body,
        "1",
        MediaContentType0=content_type,
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
    )


HUGE = "necesito ayuda " * 1000
ROWS: dict[str, tuple[dict[str, str], IncomingMessage]] = {
    "text": (form("como saco mi pasaporte"), seen("como saco mi pasaporte")),
    "text with emoji and accents": (form("¿Dónde queda? 🙏"), seen("¿Dónde queda? 🙏")),
    "empty body": (form(""), seen("")),
    "huge body is passed whole": (form(HUGE), seen(HUGE)),
    "binary-ish body": (form("\x00\x07\ufffd\x1b[0m"), seen("\x00\x07\ufffd\x1b[0m")),
    "quick-reply button": (
        form("Asilo", ButtonText="Asilo", ButtonPayload="topic:asylum"),
        seen(payload="topic:asylum"),
    ),
    "empty button payload is text": (form("hola", ButtonPayload=""), seen("hola")),
    "voice note": (media("audio/ogg"), seen(kind=MessageKind.VOICE)),
    "audio file": (media("audio/mpeg"), seen(kind=MessageKind.VOICE)),
    "image": (media("image/jpeg"), seen(kind=MessageKind.IMAGE)),
    "image with a caption: the caption is read": (
        media("image/png", "me tienen encerrada"),
        seen("me tienen encerrada", MessageKind.IMAGE),
    ),
    "content type in capitals": (media("IMAGE/JPEG"), seen(kind=MessageKind.IMAGE)),
    "sticker (webp)": (media("image/webp"), seen(kind=MessageKind.STICKER)),
    "video": (media("video/mp4"), seen(kind=MessageKind.VIDEO)),
    "contact card": (media("text/vcard"), seen(kind=MessageKind.CONTACT)),
    "contact card, old type": (media("text/x-vcard"), seen(kind=MessageKind.CONTACT)),
    "document": (media("application/pdf"), seen(kind=MessageKind.DOCUMENT)),
    "media of an unknown type": (media("application/x-foo"), seen(kind=MessageKind.DOCUMENT)),
    "media without a type": (form("", "1"), seen(kind=MessageKind.DOCUMENT)),
    "location": (
        form("", Latitude="13.69", Longitude="-89.19"),
        seen(kind=MessageKind.LOCATION),
    ),
    "shared place with a name": (
        form("Parque Cuscatlan", Latitude="13.69", Longitude="-89.19", Label="Parque"),
        seen("Parque Cuscatlan", MessageKind.LOCATION),
    ),
    "half a location is text": (form("x", Latitude="13.69"), seen("x")),
    "NumMedia that is not a number": (form("hola", "muchos"), seen("hola")),
    "NumMedia negative": (form("hola", "-1"), seen("hola")),
    "NumMedia missing": (
        {k: v for k, v in form("hola").items() if k != "NumMedia"},
        seen("hola"),
    ),
    "no MessageSid": (
        {k: v for k, v in form("hola").items() if k != "MessageSid"},
        IncomingMessage(channel=CHANNEL, user_id=PHONE, text="hola"),
    ),
    "unknown fields are ignored": (
        form("hola", ReferralBody="ad", ForwardedCount="5", Unknown="x"),
        seen("hola"),
    ),
    "no From (the webhook refuses it before the engine)": (
        {k: v for k, v in form("hola").items() if k != "From"},
        IncomingMessage(channel=CHANNEL, user_id="", text="hola", message_id=SID),
    ),
}


@pytest.mark.parametrize(("fields", "expected"), ROWS.values(), ids=ROWS.keys())
def test_form_becomes_the_message_the_engine_sees(
    fields: dict[str, str], expected: IncomingMessage
) -> None:
    assert incoming_from_form(fields) == expected


def test_the_profile_name_and_media_urls_go_nowhere() -> None:
    got = incoming_from_form(media("image/jpeg", "hola"))
    assert "Maria" not in repr(got) and "api.twilio.com" not in repr(got)


# The raw body as Twilio posts it, through the same parser the webhook uses.
RAW: dict[str, tuple[bytes, str | None]] = {
    "plain": (urlencode(form("hola")).encode(), "hola"),
    "accents percent-encoded": (urlencode(form("¿Dónde?")).encode(), "¿Dónde?"),
    "plus as space": (b"From=whatsapp%3A%2B1&Body=hola+amiga", "hola amiga"),
    "invalid UTF-8 escapes become U+FFFD": (b"From=x&Body=%FF%FEhola", "\ufffd\ufffdhola"),
    "raw bytes that are not UTF-8": (b"From=x&Body=\xff\xfehola", "\ufffd\ufffdhola"),
    "a NUL byte survives as text": (b"From=x&Body=a%00b", "a\x00b"),
    "repeated field: the last one": (b"From=x&Body=uno&Body=dos", "dos"),
    "no body field": (b"From=x", ""),
    "not a form at all": (b"\x00\x01\x02", ""),
    "exactly the limit": (
        b"From=x&Body=" + b"a" * (MAX_FORM_BYTES - 12),
        "a" * (MAX_FORM_BYTES - 12),
    ),
    "over the limit is refused unread": (b"Body=" + b"a" * MAX_FORM_BYTES, None),
}


@pytest.mark.parametrize(("raw", "text"), RAW.values(), ids=RAW.keys())
def test_raw_body_is_read_safely(raw: bytes, text: str | None) -> None:
    fields = form_from_body(raw)
    if text is None:
        assert fields is None
        return
    assert fields is not None
    assert incoming_from_form(fields).text == text
