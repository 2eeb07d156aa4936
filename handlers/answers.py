"""Turn a content entry into a reply with its follow-up options as buttons."""

from __future__ import annotations

import datetime as dt

from bot.core import Button, ContentEntry, ContentStore, Reply

TOPIC_PREFIX = "topic:"


def topic_payload(key: str) -> str:
    return f"{TOPIC_PREFIX}{key}"


def topic_from_payload(payload: str) -> str | None:
    return payload[len(TOPIC_PREFIX) :] if payload.startswith(TOPIC_PREFIX) else None


def buttons_for(
    content: ContentStore, language: str, keys: list[str] | tuple[str, ...]
) -> tuple[Button, ...]:
    return tuple(
        Button(label=content.get(language, key).title, payload=topic_payload(key))
        for key in keys
        if content.has(language, key)
    )


def is_expired(entry: ContentEntry, today: dt.date | None = None) -> bool:
    if not entry.expires_on:
        return False
    try:
        return dt.date.fromisoformat(entry.expires_on) < (today or dt.date.today())
    except ValueError:
        return True


def answer(
    content: ContentStore,
    language: str,
    key: str,
    extra_options: tuple[str, ...] = (),
    today: dt.date | None = None,
) -> Reply:
    """The published answer for `key`; a stale time-bound fact carries a warning note."""
    entry = content.get(language, key)
    text = entry.text
    if is_expired(entry, today):
        text = f"{text}\n\n{content.get(language, 'outdated_note').text}"
    options = tuple(dict.fromkeys((*entry.options, *extra_options)))
    return Reply(text=text, buttons=buttons_for(content, language, options), content_key=key)
