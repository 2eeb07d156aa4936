"""Telegram's update -> IncomingMessage translation as a table: Bot API JSON in, the neutral
message out, no server and no event loop. The end-to-end behaviour is in test_telegram.py."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from telegram import Update

from bot.channels.telegram import CHANNEL, incoming_from_update
from kernel.types import IncomingMessage, MessageKind

CHAT = 55501234
GROUP = -100200300
BOT = {"id": 4242, "is_bot": True, "first_name": "Ventanilla"}
FILE = {"file_id": "f1", "file_unique_id": "u1"}


def person(language: str | None = "es") -> dict[str, Any]:
    return {
        "id": CHAT,
        "is_bot": False,
        "first_name": "Ana",
        **({"language_code": language} if language else {}),
    }


def message(
    chat_id: int = CHAT, chat_type: str = "private", message_id: int = 1, **fields: Any
) -> dict[str, Any]:
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type != "private":
        chat["title"] = "Grupo"
    return {
        "message_id": message_id,
        "date": 1_764_633_600,
        "chat": chat,
        "from": person(),
        **fields,
    }


def button(data: str | None, chat_type: str = "private", **fields: Any) -> dict[str, Any]:
    query: dict[str, Any] = {
        "id": "cbq-1",
        "from": person(),
        "chat_instance": "x",
        "message": message(chat_id=CHAT if chat_type == "private" else GROUP, chat_type=chat_type)
        | {"from": BOT, "text": "menu"},
        **fields,
    }
    if data is not None:
        query["data"] = data
    return query


def private(kind: MessageKind = MessageKind.TEXT, text: str = "", **fields: Any) -> IncomingMessage:
    """The expected message from the private chat, its message id left out (checked apart)."""
    return IncomingMessage(
        channel=CHANNEL, user_id=str(CHAT), text=text, kind=kind, language_hint="es", **fields
    )


def group_notice(chat_id: int = GROUP) -> IncomingMessage:
    return IncomingMessage(
        channel=CHANNEL,
        user_id=str(chat_id),
        is_private_chat=False,
        message_id=f"group-notice:{chat_id}",
        language_hint="es",
    )


HUGE = "ayuda " * 5000
LOCATION = {"latitude": 13.69, "longitude": -89.19}
# (update fields, the message the engine sees: None when it sees nothing)
ROWS: dict[str, tuple[dict[str, Any], IncomingMessage | None]] = {
    "text": ({"message": message(text="necesito el dui")}, private(text="necesito el dui")),
    "edited text": (
        {"edited_message": message(text="necesito el dui", edit_date=1_764_633_700)},
        private(text="necesito el dui"),
    ),
    "text with emoji and accents": (
        {"message": message(text="¿Dónde está la embajada? 🙏")},
        private(text="¿Dónde está la embajada? 🙏"),
    ),
    "huge text is passed whole": ({"message": message(text=HUGE)}, private(text=HUGE)),
    "binary-ish text: a lone surrogate becomes U+FFFD": (
        {"message": message(text="hola \ud800 \x00 \x1b[31m")},
        private(text="hola \ufffd \x00 \x1b[31m"),
    ),
    "empty text": ({"message": message(text="")}, private(text="")),
    "/start": ({"message": message(text="/start")}, private(payload="topic:greet")),
    "/start addressed to the bot": (
        {"message": message(text="/start@ventanilla_bot")},
        private(payload="topic:greet"),
    ),
    "/MENU in capitals": ({"message": message(text="/MENU")}, private(payload="topic:menu")),
    "/idioma": ({"message": message(text="/idioma")}, private(payload="language_prompt")),
    "/language": ({"message": message(text="/language")}, private(payload="language_prompt")),
    "/borrar_chat": ({"message": message(text="/borrar_chat")}, private(payload="chat:clean")),
    "/clean_chat": ({"message": message(text="/clean_chat")}, private(payload="chat:clean")),
    "an unknown command stays text": (
        {"message": message(text="/ayuda")},
        private(text="/ayuda"),
    ),
    "a command with words after it stays text": (
        {"message": message(text="/start hola")},
        private(text="/start hola"),
    ),
    "voice": (
        {"message": message(voice={**FILE, "duration": 3})},
        private(MessageKind.VOICE),
    ),
    "audio": ({"message": message(audio={**FILE, "duration": 60})}, private(MessageKind.AUDIO)),
    "video": (
        {"message": message(video={**FILE, "width": 1, "height": 1, "duration": 2})},
        private(MessageKind.VIDEO),
    ),
    "video note": (
        {"message": message(video_note={**FILE, "length": 1, "duration": 2})},
        private(MessageKind.VIDEO),
    ),
    "animation": (
        {
            "message": message(
                animation={**FILE, "width": 1, "height": 1, "duration": 1},
                document={**FILE},
            )
        },
        private(MessageKind.DOCUMENT),  # Telegram sends a GIF as a document too
    ),
    "photo": (
        {"message": message(photo=[{**FILE, "width": 10, "height": 10}])},
        private(MessageKind.IMAGE),
    ),
    "photo with a caption: the caption is read": (
        {
            "message": message(
                photo=[{**FILE, "width": 10, "height": 10}], caption="me tienen encerrada"
            )
        },
        private(MessageKind.IMAGE, "me tienen encerrada"),
    ),
    "document": (
        {"message": message(document={**FILE, "file_name": "dui.pdf"})},
        private(MessageKind.DOCUMENT),
    ),
    "sticker": (
        {
            "message": message(
                sticker={
                    **FILE,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "🙏",
                }
            )
        },
        private(MessageKind.STICKER),
    ),
    "location": ({"message": message(location=LOCATION)}, private(MessageKind.LOCATION)),
    "venue": (
        {
            "message": message(
                location=LOCATION,
                venue={"location": LOCATION, "title": "Parque", "address": "Centro"},
            )
        },
        private(MessageKind.LOCATION),
    ),
    "contact": (
        {"message": message(contact={"phone_number": "+50370000000", "first_name": "Rosa"})},
        private(MessageKind.CONTACT),
    ),
    "a message with nothing we know": (
        {"message": message(new_chat_title="x")},
        private(MessageKind.OTHER),
    ),
    "group text: one notice per group": (
        {"message": message(GROUP, "group", text="hola a todos")},
        group_notice(),
    ),
    "supergroup voice": (
        {"message": message(GROUP, "supergroup", voice={**FILE, "duration": 1})},
        group_notice(),
    ),
    "group command": (
        {"message": message(GROUP, "group", text="/start")},
        group_notice(),
    ),
    "button": (
        {"callback_query": button("topic:asylum")},
        private(payload="topic:asylum", message_id="callback:cbq-1"),
    ),
    "button in a group": (
        {"callback_query": button("topic:asylum", "group")},
        IncomingMessage(
            channel=CHANNEL,
            user_id=str(GROUP),
            payload="topic:asylum",
            message_id="callback:cbq-1",
            is_private_chat=False,
            language_hint="es",
        ),
    ),
    "button without data (a game)": (
        {"callback_query": button(None, game_short_name="g")},
        None,
    ),
    "button on a message too old to have one": (
        {"callback_query": {k: v for k, v in button("topic:x").items() if k != "message"}},
        None,
    ),
    "channel post": ({"channel_post": message(-1001, "channel", text="x")}, None),
    "edited channel post": (
        {"edited_channel_post": message(-1001, "channel", text="x", edit_date=1)},
        None,
    ),
    "an update kind the bot did not ask for": (
        {
            "poll_answer": {
                "poll_id": "p",
                "option_ids": [0],
                "option_persistent_ids": ["a"],
                "user": person(),
            }
        },
        None,
    ),
    "no kind at all": ({}, None),
}


def translate(fields: dict[str, Any]) -> IncomingMessage | None:
    return incoming_from_update(Update.de_json({"update_id": 1, **fields}, None))


@pytest.mark.parametrize(("fields", "expected"), ROWS.values(), ids=ROWS.keys())
def test_update_becomes_the_message_the_engine_sees(
    fields: dict[str, Any], expected: IncomingMessage | None
) -> None:
    got = translate(fields)
    if expected is None or expected.message_id is not None:
        assert got == expected
        return
    assert got is not None and got.message_id is not None
    assert dataclasses.replace(got, message_id=None) == expected
    assert got.message_id.startswith(f"msg:{CHAT}:1:")


@pytest.mark.parametrize(
    ("language_code", "hint"),
    [("es", "es"), ("en", "en"), ("es-SV", "es"), ("pt-BR", "pt"), ("", None), (None, None)],
)
def test_the_app_language_is_a_hint_without_its_region(
    language_code: str | None, hint: str | None
) -> None:
    sent = message(text="hola") | {"from": person(language_code)}
    got = translate({"message": sent})
    assert got is not None and got.language_hint == hint


def test_a_message_key_changes_with_the_text_only() -> None:
    """A retry or an edit that changes nothing is the same message; a correction is not."""

    def key(message_id: int, text: str) -> str | None:
        got = translate({"message": message(message_id=message_id, text=text)})
        assert got is not None
        return got.message_id

    edited = translate({"edited_message": message(text="hola", edit_date=1_764_633_700)})
    assert edited is not None and edited.message_id == key(1, "hola")
    assert key(1, "hola") != key(1, "hola!")
    assert key(1, "hola") != key(2, "hola")
    other_chat = translate({"message": message(chat_id=CHAT + 1, text="hola")})
    assert other_chat is not None and other_chat.message_id != key(1, "hola")
