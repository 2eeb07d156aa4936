"""The Telegram channel end to end: real Bot API JSON posted to the real webhook, the real
python-telegram-bot client talking to a fake Bot API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.telegram import SECRET_HEADER, TelegramChannel, TelegramConfig
from bot.content import FileContentStore
from bot.db import engine as db
from bot.db.chat_log import SqlChatLog
from bot.db.models import Message
from bot.engine import build_dispatcher
from bot.settings import Settings
from handlers.answers import answer
from tests.bot.channels.conftest import ChannelStack, count_rows
from tests.conftest import ScriptedClassifier, engine_text
from tests.fakes.server import serve
from tests.fakes.telegram_api import Call, FakeBotAPI

TOKEN = "123456:TEST-token"
SECRET = "webhook-secret-value"
CHAT = 55501234


@dataclass
class Stack:
    api: FakeBotAPI
    url: str
    classifier: ScriptedClassifier
    database_url: str
    api_url: str
    chat_log: SqlChatLog
    store: Any
    channel: TelegramChannel

    def post(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return httpx.post(f"{self.url}/webhooks/telegram", json=update, headers=headers, timeout=10)

    def wait_sent(self, count: int, chat_id: int = CHAT) -> list[Call]:
        """At least `count` messages to the chat, then whatever else the updates in flight
        send: a test sees an unexpected extra message."""
        self.api.wait_sent(count, chat_id)
        self.settle()
        return self.api.sent(chat_id)

    def settle(self, timeout: float = 15) -> None:
        """Wait until every update the webhook accepted has been handled, answered or not."""
        deadline = time.monotonic() + timeout
        while self.channel.in_flight:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.channel.in_flight} updates still being handled")
            time.sleep(0.01)

    def stored_messages(self) -> int:
        return count_rows(self.database_url, Message)


@pytest.fixture
def stack(channel_stack: ChannelStack, content: FileContentStore) -> Stack:
    api = FakeBotAPI(TOKEN)
    api_url = channel_stack.serve(api.app())
    base = channel_stack.base
    chat_log = SqlChatLog(base.engine, base.protector)
    channel = TelegramChannel(
        TelegramConfig(TOKEN, SECRET, "https://bot.example.org", api_url),
        base.dispatcher.handle,
        chat_log=chat_log,
        content=content,
    )
    url = channel_stack.serve_app(channel)
    return Stack(api, url, base.classifier, base.url, api_url, chat_log, base.store, channel)


_update_ids = iter(range(10_000, 99_999))


def user(language: str = "es") -> dict[str, Any]:
    return {"id": CHAT, "is_bot": False, "first_name": "Ana", "language_code": language}


def message(
    text: str | None = None,
    message_id: int = 1,
    chat_type: str = "private",
    chat_id: int = CHAT,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {
            "id": chat_id,
            "type": chat_type,
            **({"title": "Grupo"} if chat_type != "private" else {}),
        },
        "from": user(),
        **extra,
    }
    if text is not None:
        body["text"] = text
    return body


def update(**kind: Any) -> dict[str, Any]:
    return {"update_id": next(_update_ids), **kind}


def test_start_registers_the_webhook_with_its_secret(stack: Stack) -> None:
    calls = stack.api.named("setWebhook")
    assert len(calls) == 1
    assert calls[0].params["url"] == "https://bot.example.org/webhooks/telegram"
    assert calls[0].params["secret_token"] == SECRET


def test_webhook_refuses_missing_or_wrong_secret(stack: Stack) -> None:
    assert stack.post(update(message=message("hola")), secret=None).status_code == 403
    assert stack.post(update(message=message("hola")), secret="wrong").status_code == 403
    stack.settle()  # refused before anything was scheduled: nothing in flight
    assert stack.api.sent() == []
    assert stack.stored_messages() == 0


def test_text_gets_exactly_one_answer_with_keyboard(
    stack: Stack, content: FileContentStore
) -> None:
    stack.classifier.say("necesito sacar el pasaporte", "documents")
    response = stack.post(update(message=message("necesito sacar el pasaporte")))
    assert response.status_code == 200
    sent = stack.wait_sent(2)
    assert [c.params["text"] for c in sent] == [
        content.get("es", "privacy_notice").text,
        answer(content, "es", "documents").text,
    ]
    keyboard = sent[-1].params["reply_markup"]["inline_keyboard"]
    expected = [content.get("es", k).title for k in content.get("es", "documents").options]
    assert [row[0]["text"] for row in keyboard] == expected
    assert stack.stored_messages() > 0


def test_same_update_posted_three_times_is_answered_once(stack: Stack) -> None:
    stack.classifier.say("hola", "greet")
    same = update(message=message("hola", message_id=7))
    for _ in range(3):
        assert stack.post(same).status_code == 200
    assert len(stack.wait_sent(2)) == 2  # privacy notice + greeting, once
    stack.settle()
    assert len(stack.api.sent(CHAT)) == 2


def test_edit_with_same_text_is_not_answered_again_but_a_correction_is(stack: Stack) -> None:
    stack.classifier.say("hola", "greet")
    stack.classifier.say("necesito el dui", "documents")
    stack.post(update(message=message("hola", message_id=9)))
    stack.wait_sent(2)
    stack.post(update(edited_message=message("hola", message_id=9, edit_date=int(time.time()))))
    stack.settle()
    assert len(stack.api.sent(CHAT)) == 2
    stack.post(
        update(edited_message=message("necesito el dui", message_id=9, edit_date=int(time.time())))
    )
    assert len(stack.wait_sent(3)) == 3


def test_button_press_is_answered_and_acknowledged(stack: Stack, content: FileContentStore) -> None:
    query = {
        "id": "cbq-1",
        "from": user(),
        "chat_instance": "x",
        "data": "topic:asylum",
        "message": message(
            "menu", message_id=3, **{"from": {"id": 4242, "is_bot": True, "first_name": "V"}}
        ),
    }
    stack.post(update(callback_query=query))
    sent = stack.wait_sent(2)
    assert sent[-1].params["text"] == content.get("es", "asylum").text
    assert [c.params["callback_query_id"] for c in stack.api.named("answerCallbackQuery")] == [
        "cbq-1"
    ]


def test_media_location_and_groups(stack: Stack, content: FileContentStore) -> None:
    voice = {"file_id": "v1", "file_unique_id": "u1", "duration": 3}
    stack.post(update(message=message(message_id=20, voice=voice)))
    sent = stack.wait_sent(2)
    assert sent[-1].params["text"] == content.get("es", "unsupported_media").text
    photo = [{"file_id": "p1", "file_unique_id": "pu1", "width": 10, "height": 10}]
    stack.post(update(message=message(message_id=21, photo=photo)))
    stack.post(
        update(message=message(message_id=22, location={"latitude": 13.7, "longitude": -89.2}))
    )
    sent = stack.wait_sent(4)
    assert sent[-1].params["text"] == content.get("es", "location_received").text
    group = -100200300
    for n in range(3):
        stack.post(
            update(
                message=message("hola a todos", message_id=30 + n, chat_type="group", chat_id=group)
            )
        )
    group_sent = stack.wait_sent(1, chat_id=group)
    stack.settle()
    assert [c.params["text"] for c in stack.api.sent(group)][-1] == content.get(
        "es", "group_chat"
    ).text
    assert (
        len(stack.api.sent(group)) == len(group_sent) <= 2
    )  # notice (+ privacy) once, not per message
    stack.post(
        update(
            channel_post={
                "message_id": 1,
                "date": 1,
                "chat": {"id": -1001, "type": "channel"},
                "text": "x",
            }
        )
    )
    stack.settle()
    assert stack.api.sent(-1001) == []


def test_rate_limit_is_waited_out_and_the_reply_still_arrives(
    stack: Stack, content: FileContentStore
) -> None:
    stack.classifier.say("hola", "greet")
    stack.api.rate_limit_next = 1
    stack.api.retry_after = 1
    stack.post(update(message=message("hola", message_id=40)))
    sent = stack.wait_sent(2)
    attempts = stack.api.named("sendMessage")
    assert len(attempts) == 3  # the refused one, then both replies
    # The refused message is the one sent again, unchanged: nothing lost or reordered.
    # (How long the channel waited is not asserted: tests never depend on the clock.)
    assert attempts[1].params == attempts[0].params
    assert sent[-1].params["text"] == content.get("es", "greet").text


def test_start_and_language_commands(stack: Stack, content: FileContentStore) -> None:
    stack.post(update(message=message("/start", message_id=50)))
    sent = stack.wait_sent(2)
    assert sent[-1].params["text"] == content.get("es", "greet").text
    stack.post(update(message=message("/idioma", message_id=51)))
    sent = stack.wait_sent(3)
    buttons = [
        row[0]["callback_data"] for row in sent[-1].params["reply_markup"]["inline_keyboard"]
    ]
    assert buttons == ["lang:es", "lang:en"]


def test_long_answer_is_split_under_telegram_limit(stack: Stack) -> None:
    import asyncio

    from kernel.types import Reply

    channel = TelegramChannel(
        TelegramConfig(TOKEN, SECRET, "", stack.api_url),
        lambda m: None,  # type: ignore[arg-type, return-value]
    )

    async def go() -> None:
        await channel.application.initialize()
        try:
            await channel.send(str(CHAT), [Reply(("palabra " * 1200).strip())])
        finally:
            await channel.application.shutdown()

    asyncio.run(go())
    texts = [c.params["text"] for c in stack.api.sent(CHAT)]
    assert len(texts) == 3 and all(len(t) <= 4096 for t in texts)
    assert " ".join(texts).split() == ["palabra"] * 1200


def test_bot_api_server_errors_are_retried_and_the_reply_arrives(
    stack: Stack, content: FileContentStore
) -> None:
    stack.classifier.say("hola", "greet")
    stack.api.fail_next = 2
    stack.post(update(message=message("hola", message_id=60)))
    sent = stack.wait_sent(4)  # two refused with 502, then both replies
    assert len(sent) == 4
    assert sent[-1].params["text"] == content.get("es", "greet").text


def test_long_polling_answers_without_a_webhook(
    settings: Settings, content: FileContentStore, tmp_path: Path
) -> None:
    import asyncio

    from bot.memory_state import InMemoryStateStore

    api = FakeBotAPI(TOKEN)
    classifier = ScriptedClassifier()
    classifier.say("hola", "greet")
    dispatcher = build_dispatcher(
        settings, classifier, InMemoryStateStore(), content, text=engine_text(settings)
    )

    async def scenario(api_url: str) -> list[Call]:
        channel = TelegramChannel(
            TelegramConfig(TOKEN, api_base_url=api_url), dispatcher.handle, polling=True
        )
        await channel.start()
        try:
            api.updates.append(update(message=message("hola", message_id=70)))
            await api.until_sent(2, CHAT)
        finally:
            await channel.stop()
        return api.sent(CHAT)

    with serve(api.app()) as api_url:
        sent = asyncio.run(scenario(api_url))
    assert [c.params["text"] for c in sent][-1] == content.get("es", "greet").text
    assert api.named("deleteWebhook"), "polling removes any webhook first"
    assert not api.named("setWebhook")


def test_discreet_mode_puts_the_neutral_line_first_in_every_message(
    stack: Stack, content: FileContentStore
) -> None:
    neutral = content.get("es", "discreet_preview").text.strip()
    stack.classifier.say("necesito sacar el pasaporte", "documents")
    stack.post(update(message=message("me tienen encerrada y no me dejan salir", message_id=30)))
    sent = stack.wait_sent(3)
    offered = [
        row[0]["callback_data"]
        for call in sent
        for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
    ]
    assert "topic:discreet_on" in offered  # the safety answer offers it
    before = len(sent)
    query = {
        "id": "cbq-d",
        "from": user(),
        "chat_instance": "x",
        "data": "topic:discreet_on",
        "message": message(
            "x", message_id=31, **{"from": {"id": 4242, "is_bot": True, "first_name": "V"}}
        ),
    }
    stack.post(update(callback_query=query))
    stack.post(update(message=message("necesito sacar el pasaporte", message_id=32)))
    sent = stack.wait_sent(before + 2)
    after = [c.params["text"] for c in sent[before:]]
    assert len(after) >= 2
    assert all(text.split("\n")[0] == neutral for text in after)
    assert content.get("es", "documents").text.strip() in after[-1]
    stack.post(update(message=message("modo normal", message_id=33)))
    stack.post(update(message=message("necesito sacar el pasaporte", message_id=34)))
    sent = stack.wait_sent(len(sent) + 2)
    assert sent[-1].params["text"] == answer(content, "es", "documents").text


def stored_chat_ids(database_url: str) -> list[int]:
    engine = db.make_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT message_id FROM chat_message_ids")
            return sorted(int(row[0]) for row in rows)
    finally:
        engine.dispose()


def test_borrar_chat_deletes_exactly_the_stored_ids_newer_than_48_hours(
    stack: Stack, content: FileContentStore
) -> None:
    long_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=49)
    asyncio.run(stack.chat_log.remember(str(CHAT), [11, 12], at=long_ago))
    stack.classifier.say("hola", "greet")
    stack.post(update(message=message("hola", message_id=40)))
    stack.wait_sent(2)  # the privacy notice and the greeting: ids 1000 and 1001
    assert stored_chat_ids(stack.database_url) == [11, 12, 40, 1000, 1001]
    stack.post(update(message=message("/borrar_chat", message_id=41)))
    sent = stack.wait_sent(3)
    calls = stack.api.named("deleteMessages")
    assert len(calls) == 1 and str(calls[0].params["chat_id"]) == str(CHAT)
    assert sorted(calls[0].params["message_ids"]) == [40, 41, 1000, 1001]
    assert stack.api.named("deleteMessage") == []
    assert sent[-1].params["text"] == content.get("es", "telegram_chat_cleaned").text.strip()
    # Only the confirmation's id is left, for the next clean-up.
    assert stored_chat_ids(stack.database_url) == [1002]


def test_safety_answer_offers_to_clean_the_chat_and_erasure_drops_the_ids(
    stack: Stack, content: FileContentStore
) -> None:
    stack.post(update(message=message("me tienen encerrada y no me dejan salir", message_id=50)))
    sent = stack.wait_sent(3)
    offered = {
        row[0]["callback_data"]: row[0]["text"]
        for call in sent
        for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
    }
    assert offered["chat:clean"] == content.get("es", "telegram_chat_cleaned").title
    assert stored_chat_ids(stack.database_url)
    asyncio.run(stack.store.forget("telegram", str(CHAT)))
    assert stored_chat_ids(stack.database_url) == []
