"""Telegram adapter on python-telegram-bot v22: Bot API update <-> neutral types.

The PTB `Application` is built with `updater(None)` and fed by the app's own
webhook route (PTB's custom-webhook pattern), or, for local use, with an
Updater that long-polls. It never decides what to answer: the engine does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import (
    Bot,
    CallbackQuery,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.telegram_send import send_replies
from bot.http_limits import clean_text, loads_limited
from bot.settings import Settings
from kernel.types import (
    Button,
    ContentStore,
    Delivery,
    Handle,
    IncomingMessage,
    MessageKind,
    Reply,
)

log = logging.getLogger(__name__)

CHANNEL = "telegram"
WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_RETRIES = 5
BACKOFF_SECONDS = 0.5
MAX_BODY_BYTES = 1024 * 1024
CLEAN_CHAT = "chat:clean"
CLEAN_CHAT_KEY = "telegram_chat_cleaned"  # its title labels the button, its text confirms
DELETABLE_FOR = dt.timedelta(hours=48)  # the Bot API deletes messages up to 48 hours old
DELETE_BATCH = 100  # deleteMessages takes at most 100 ids
COMMAND_PAYLOADS = {
    "/borrar_chat": CLEAN_CHAT,
    "/clean_chat": CLEAN_CHAT,
    "/start": "topic:greet",
    "/menu": "topic:menu",
    "/idioma": "language_prompt",
    "/language": "language_prompt",
}
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


class ChatLog(Protocol):
    """Message ids per chat (stored under a keyed hash), for "/borrar_chat"."""

    async def remember(
        self, chat_id: str, message_ids: Sequence[int], at: dt.datetime | None = None
    ) -> None: ...

    async def take_since(self, chat_id: str, since: dt.datetime) -> list[int]: ...


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    webhook_secret: str = ""
    public_base_url: str = ""
    api_base_url: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> TelegramConfig | None:
        """The channel's settings, or None when no bot token is configured."""
        telegram = settings.telegram
        if telegram is None:
            return None
        return cls(
            token=telegram.token,
            webhook_secret=telegram.webhook_secret,
            public_base_url=settings.public_base_url,
            api_base_url=telegram.api_base_url,
        )


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _kind(message: Message) -> MessageKind:
    if message.text is not None:
        return MessageKind.TEXT
    for attribute, kind in (
        ("voice", MessageKind.VOICE),
        ("audio", MessageKind.AUDIO),
        ("video", MessageKind.VIDEO),
        ("video_note", MessageKind.VIDEO),
        ("photo", MessageKind.IMAGE),
        ("document", MessageKind.DOCUMENT),
        ("sticker", MessageKind.STICKER),
        ("animation", MessageKind.VIDEO),
        ("location", MessageKind.LOCATION),
        ("venue", MessageKind.LOCATION),
        ("contact", MessageKind.CONTACT),
    ):
        if getattr(message, attribute, None):
            return kind
    return MessageKind.OTHER


def _language_hint(code: str | None) -> str | None:
    return code.split("-")[0] if code else None


def incoming_from_message(message: Message) -> IncomingMessage:
    chat_id = str(message.chat.id)
    private = message.chat.type == ChatType.PRIVATE
    # A caption is read too: a photo can carry a cry for help.
    text = clean_text(message.text or message.caption or "")
    hint = _language_hint(message.from_user.language_code if message.from_user else None)
    if not private:
        # Answered once per group: the engine's idempotency does the "once".
        return IncomingMessage(
            channel=CHANNEL,
            user_id=chat_id,
            text="",
            is_private_chat=False,
            message_id=f"group-notice:{chat_id}",
            language_hint=hint,
        )
    kind = _kind(message)
    command = text.split("@", 1)[0].strip().lower() if text.startswith("/") else ""
    # Same message id and same text = same message: an edit that changes nothing
    # (or a platform retry) is not answered twice; a real correction is.
    message_key = f"msg:{chat_id}:{message.message_id}:{_fingerprint(text)}"
    return IncomingMessage(
        channel=CHANNEL,
        user_id=chat_id,
        text="" if command in COMMAND_PAYLOADS else text,
        kind=kind,
        message_id=message_key,
        payload=COMMAND_PAYLOADS.get(command),
        language_hint=hint,
    )


def incoming_from_update(update: Update) -> IncomingMessage | None:
    """The message the engine answers, or None for what it never sees (channel posts,
    kinds of update the bot did not ask for, a button press without its message)."""
    if update.callback_query is not None:
        return incoming_from_callback(update.callback_query)
    message = update.message or update.edited_message
    return incoming_from_message(message) if message is not None else None


def _unsupported(update: Update) -> bool:
    """Neither a message, a button press nor a channel post (which are ignored silently)."""
    return not (
        update.callback_query
        or update.message
        or update.edited_message
        or update.channel_post
        or update.edited_channel_post
    )


def incoming_from_callback(query: CallbackQuery) -> IncomingMessage | None:
    if query.message is None or query.data is None:
        return None
    chat = query.message.chat
    return IncomingMessage(
        channel=CHANNEL,
        user_id=str(chat.id),
        payload=query.data,
        message_id=f"callback:{query.id}",
        is_private_chat=chat.type == ChatType.PRIVATE,
        language_hint=_language_hint(query.from_user.language_code),
    )


class TelegramChannel:
    """Holds a PTB Application and translates between it and the engine."""

    def __init__(
        self,
        config: TelegramConfig,
        handle: Handle,
        polling: bool = False,
        chat_log: ChatLog | None = None,
        content: ContentStore | None = None,
        default_language: str = "es",
    ) -> None:
        """`polling=True` long-polls the Bot API (no public URL needed); otherwise webhooks.

        With `chat_log` and `content`, "/borrar_chat" and a button on the safety answers
        delete the recent messages of the chat.
        """
        self.config = config
        self._handle = handle
        self._chat_log = chat_log
        self._content = content
        self._default_language = default_language
        builder = Application.builder().token(config.token)
        if config.api_base_url:
            base = config.api_base_url.rstrip("/")
            builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
        if not polling:
            builder = builder.updater(None)
        self.application = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def bot(self) -> Bot:
        return self.application.bot

    async def start(self) -> None:
        await self.application.initialize()
        await self.application.start()
        if self.application.updater is not None:
            await self.bot.delete_webhook()
            await self.application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        elif self.config.public_base_url and self.config.webhook_secret:
            await self.bot.set_webhook(
                url=self.config.public_base_url.rstrip("/") + WEBHOOK_PATH,
                secret_token=self.config.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            log.info("telegram webhook registered")

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.application.updater is not None and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def feed(self, data: dict[str, object]) -> None:
        try:
            update = Update.de_json(data, self.bot)
        except Exception as exc:  # wrong field types: a log line, never an exception
            log.warning("ignored a malformed telegram update (%s)", type(exc).__name__)
            return
        await self.application.process_update(update)

    def feed_in_background(self, data: dict[str, object]) -> None:
        task = asyncio.create_task(self.feed(data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def in_flight(self) -> int:
        """Updates the webhook accepted and not yet handled; `stop` waits for them, and so
        does a test that checks nothing more was sent."""
        return len(self._tasks)

    async def _on_update(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            try:
                await update.callback_query.answer()  # always, or the client keeps spinning
            except TelegramError:
                log.warning("could not answer a callback query")
        incoming = incoming_from_update(update)
        if incoming is None:
            if _unsupported(update):
                log.info("ignored an unsupported telegram update (id %s)", update.update_id)
            return
        inbound = update.message or update.edited_message
        inbound_ids = [inbound.message_id] if inbound is not None else []
        if incoming.payload == CLEAN_CHAT and self._chat_log is not None:
            await self._clean_chat(incoming, inbound_ids)
            return
        result = await self._handle(incoming)
        replies = result.replies
        if result.route.is_safety:
            replies = self._offer_cleaning(replies, result.language)
        sent = await self._send(incoming.user_id, replies, result.preview)
        if incoming.is_private_chat:
            await self._remember(incoming.user_id, [*inbound_ids, *sent])

    def _language(self, language: str | None) -> str:
        if language and self._content is not None and self._content.has(language, CLEAN_CHAT_KEY):
            return language
        return self._default_language

    def _offer_cleaning(self, replies: list[Reply], language: str) -> list[Reply]:
        """The safety answers offer to clean up the chat (a phone someone else may read)."""
        if self._chat_log is None or self._content is None or not replies:
            return replies
        label = self._content.get(self._language(language), CLEAN_CHAT_KEY).title
        first = replies[0]
        button = Button(label=label, payload=CLEAN_CHAT)
        return [Reply(first.text, (*first.buttons, button), first.content_key), *replies[1:]]

    async def _remember(self, chat_id: str, message_ids: list[int]) -> None:
        if self._chat_log is None or not message_ids:
            return
        try:
            await self._chat_log.remember(chat_id, message_ids)
        except Exception:
            log.exception("could not keep message ids for /borrar_chat")

    async def _clean_chat(self, incoming: IncomingMessage, inbound_ids: list[int]) -> None:
        """Delete what the Bot API still allows (48 hours), then say so in one neutral line."""
        assert self._chat_log is not None
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        ids = await self._chat_log.take_since(incoming.user_id, now - DELETABLE_FOR)
        ids = list(dict.fromkeys([*ids, *inbound_ids]))
        for start in range(0, len(ids), DELETE_BATCH):
            try:
                await self.bot.delete_messages(incoming.user_id, ids[start : start + DELETE_BATCH])
            except TelegramError as exc:
                log.warning("deleteMessages failed (%s)", type(exc).__name__)
        if self._content is not None:
            language = self._language(incoming.language_hint)
            line = self._content.get(language, CLEAN_CHAT_KEY).text.strip()
            sent = await self._send(incoming.user_id, [Reply(line)])
            await self._remember(incoming.user_id, sent)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed: %s", type(context.error).__name__)

    async def send(self, chat_id: str, replies: Sequence[Reply], preview: str = "") -> None:
        """`preview`: discreet mode's neutral line, put first in every message."""
        await self._send(chat_id, replies, preview)

    async def _send(self, chat_id: str, replies: Sequence[Reply], preview: str = "") -> list[int]:
        return await send_replies(self.bot, chat_id, replies, preview)

    async def deliver(self, chat_id: str, replies: Sequence[Reply]) -> Delivery:
        """Staff replies: Telegram has no service window, so a sent message is delivered."""
        try:
            sent = await self._send(chat_id, replies)
        except TelegramError as exc:
            return Delivery(False, "not_sent", f"Telegram refused the message ({exc.message})")
        await self._remember(chat_id, sent)
        return Delivery(True, CHANNEL)

    def routes(self) -> list[Route]:
        secret = self.config.webhook_secret.encode()

        async def webhook(request: Request) -> Response:
            given = request.headers.get(SECRET_HEADER, "").encode()
            if not secret or not hmac.compare_digest(given, secret):
                return JSONResponse({"error": "forbidden"}, status_code=403)
            raw = await request.body()
            if len(raw) > MAX_BODY_BYTES:
                return JSONResponse({"error": "too large"}, status_code=413)
            try:
                data = loads_limited(raw)
                if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                    raise ValueError("not an update")
            except ValueError as exc:
                # Authenticated but unreadable: 200, or Telegram would resend it for hours.
                log.warning("ignored a malformed telegram update: %s", exc)
                return JSONResponse({"ok": True})
            self.feed_in_background(data)
            return JSONResponse({"ok": True})

        return [Route(WEBHOOK_PATH, webhook, methods=["POST"])]
