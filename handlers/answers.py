"""Turn a content entry into a reply with its follow-up options as buttons."""

from __future__ import annotations

import datetime as dt

from kernel.types import Button, ContentEntry, ContentStore, Reply

TOPIC_PREFIX = "topic:"
UNCONFIRMED_NOTE = "unconfirmed_note"
OUTDATED_NOTE = "outdated_note"
REFERRAL_PREFIX = "referral_"
REFERRAL_MENU = "referral_menu"
REFERRAL_UNAVAILABLE = "referral_unavailable"


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


def _unconfirmed_referral(content: ContentStore, language: str, key: str) -> bool:
    """A place to refer people to whose contact details staff have not confirmed yet."""
    if not key.startswith(REFERRAL_PREFIX) or key in (REFERRAL_MENU, REFERRAL_UNAVAILABLE):
        return False
    return not content.has(language, key) or content.get(language, key).needs_review


def answer(
    content: ContentStore,
    language: str,
    key: str,
    extra_options: tuple[str, ...] = (),
    today: dt.date | None = None,
) -> Reply:
    """The published answer for `key`, honest about what is not confirmed.

    An entry staff still have to confirm carries a short note and the official
    place to confirm it; a time-bound fact past its date carries the out-of-date note.
    Referrals are offered only to places whose contact details are confirmed.
    """
    entry = content.get(language, key)
    text = entry.text
    if entry.needs_review and entry.confirm_at:
        note = content.get(language, UNCONFIRMED_NOTE).text
        text = f"{text}\n\n{note} {entry.confirm_at}."
    if is_expired(entry, today):
        text = f"{text}\n\n{content.get(language, OUTDATED_NOTE).text}"
    options = tuple(
        option
        for option in dict.fromkeys((*entry.options, *extra_options))
        if not _unconfirmed_referral(content, language, option)
    )
    if key == REFERRAL_MENU and not any(o.startswith(REFERRAL_PREFIX) for o in options):
        # No place with confirmed contact details: say where to ask, promise nothing.
        return answer(content, language, REFERRAL_UNAVAILABLE, today=today)
    return Reply(text=text, buttons=buttons_for(content, language, options), content_key=key)
