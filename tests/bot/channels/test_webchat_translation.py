"""The web chat's JSON body -> IncomingMessage as a table: no server, no event loop.
Identity, origin checks, limits and the outbox are in test_webchat.py."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.webchat import CHANNEL, to_incoming
from kernel.types import IncomingMessage

IDENTITY = "k" * 43  # the server-issued cookie value; the body never chooses it


def seen(
    text: str = "",
    payload: str | None = None,
    message_id: str | None = None,
    language: str | None = None,
) -> IncomingMessage:
    return IncomingMessage(
        channel=CHANNEL,
        user_id=IDENTITY,
        text=text,
        payload=payload,
        message_id=message_id,
        language_hint=language,
    )


HUGE = "ayuda " * 10_000  # the 64 KiB body cap is the HTTP layer's job
ROWS: dict[str, tuple[dict[str, Any], IncomingMessage]] = {
    "text": ({"text": "necesito el pasaporte"}, seen("necesito el pasaporte")),
    "accents and emoji": ({"text": "¿Dónde? 🙏"}, seen("¿Dónde? 🙏")),
    "huge text is passed whole": ({"text": HUGE}, seen(HUGE)),
    "binary-ish text: a lone surrogate becomes U+FFFD": (
        {"text": "hola \udc80\x00\x1b"},
        seen("hola \ufffd\x00\x1b"),
    ),
    "empty object": ({}, seen()),
    "empty text": ({"text": ""}, seen()),
    "null text": ({"text": None}, seen()),
    "button": ({"payload": "topic:asylum"}, seen(payload="topic:asylum")),
    "button with its label as text": (
        {"text": "Asilo", "payload": "topic:asylum"},
        seen("Asilo", "topic:asylum"),
    ),
    "empty payload is none": ({"text": "hola", "payload": ""}, seen("hola")),
    "payload longer than any of ours is cut": ({"payload": "p" * 500}, seen(payload="p" * 200)),
    "payload with a lone surrogate": ({"payload": "topic:\ud800"}, seen(payload="topic:\ufffd")),
    "message id as text": (
        {"text": "hola", "message_id": "m-1"},
        seen("hola", message_id=f"{IDENTITY}:m-1"),
    ),
    "message id as a number": (
        {"text": "hola", "message_id": 7},
        seen("hola", message_id=f"{IDENTITY}:7"),
    ),
    "message id with spaces is dropped": ({"text": "hola", "message_id": "a b"}, seen("hola")),
    "message id too long is dropped": ({"text": "hola", "message_id": "m" * 65}, seen("hola")),
    "message id with markup is dropped": (
        {"text": "hola", "message_id": "<script>"},
        seen("hola"),
    ),
    "message id as a float is dropped": ({"text": "hola", "message_id": 1.5}, seen("hola")),
    "message id as a list is dropped": ({"text": "hola", "message_id": [1]}, seen("hola")),
    "a user id in the body is ignored": ({"text": "hola", "user_id": "someone-else"}, seen("hola")),
    "a channel in the body is ignored": ({"text": "hola", "channel": "telegram"}, seen("hola")),
    "unknown fields are ignored": ({"text": "hola", "kind": "voice", "x": {"y": 1}}, seen("hola")),
    "the page's language is a hint (a button carries no words to tell it by)": (
        {"payload": "topic:asylum", "language": "en"},
        seen(payload="topic:asylum", language="en"),
    ),
    "a language longer than a tag is dropped": ({"text": "hi", "language": "e" * 9}, seen("hi")),
    "a language as a number is dropped": ({"text": "hola", "language": 1}, seen("hola")),
}


@pytest.mark.parametrize(("body", "expected"), ROWS.values(), ids=ROWS.keys())
def test_body_becomes_the_message_the_engine_sees(
    body: dict[str, Any], expected: IncomingMessage
) -> None:
    assert to_incoming(IDENTITY, body) == expected


REFUSED: dict[str, dict[str, Any]] = {
    "text as a number": {"text": 5},
    "text as a list": {"text": ["hola"]},
    "text as an object": {"text": {"es": "hola"}},
    "text as a boolean": {"text": True},
    "payload as a number": {"payload": 1},
    "payload as an object": {"payload": {"topic": "asylum"}},
}


@pytest.mark.parametrize("body", REFUSED.values(), ids=REFUSED.keys())
def test_a_body_of_the_wrong_shape_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be strings"):
        to_incoming(IDENTITY, body)
