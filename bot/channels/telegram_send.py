"""Replies as Bot API messages: one job, sending, apart from reading updates.

A reply longer than Telegram's limit is split at word boundaries and its buttons
ride on the last part; discreet mode's neutral line leads every part. Rate limits
(429) are waited out as Telegram asks, and server errors and timeouts are retried
with backoff, so a busy moment does not lose an answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.channels.render import split_text
from bot.http_limits import clean_text
from kernel.types import Reply

log = logging.getLogger(__name__)

MAX_RETRIES = 5
BACKOFF_SECONDS = 0.5
CALLBACK_DATA_BYTES = 64  # the Bot API's limit on a button's callback data


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.payload[:CALLBACK_DATA_BYTES])]
            for b in reply.buttons
        ]
    )


def _seconds(retry_after: int | dt.timedelta) -> float:
    if isinstance(retry_after, dt.timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


async def send_replies(
    bot: Bot, chat_id: str, replies: Sequence[Reply], preview: str = ""
) -> list[int]:
    """Send, and return the ids of the messages sent (for "/borrar_chat").

    `preview`: discreet mode's neutral line, put first in every message.
    """
    sent: list[int] = []
    room = MessageLimit.MAX_TEXT_LENGTH - (len(preview) + 2 if preview else 0)
    for reply in replies:
        parts = split_text(reply.text, room)
        for index, part in enumerate(parts):
            markup = keyboard(reply) if index == len(parts) - 1 else None
            text = f"{preview}\n\n{part}" if preview else part
            sent.append(await send_one(bot, chat_id, text, markup))
    return sent


async def send_one(bot: Bot, chat_id: str, text: str, markup: InlineKeyboardMarkup | None) -> int:
    """Rate limits are waited out; server errors and timeouts are retried with backoff."""
    for attempt in range(MAX_RETRIES + 1):
        try:
            message = await bot.send_message(
                chat_id=chat_id, text=clean_text(text), reply_markup=markup
            )
            return message.message_id
        except RetryAfter as exc:
            if attempt == MAX_RETRIES:
                raise
            wait = _seconds(exc.retry_after)
            log.warning("telegram rate limit: waiting %.0fs before resending", wait)
            await asyncio.sleep(wait)
        except (NetworkError, TimedOut) as exc:
            if attempt == MAX_RETRIES or isinstance(exc, BadRequest):
                raise
            wait = BACKOFF_SECONDS * 2**attempt
            log.warning("telegram send failed (%s): retrying in %.1fs", type(exc).__name__, wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")
