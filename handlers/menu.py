"""The main menu and numbered choices, which work even when the NLU is down."""

from __future__ import annotations

from handlers.answers import answer
from kernel.types import ContentStore, Reply

MENU_KEY = "menu"


def menu_options(content: ContentStore, language: str) -> list[str]:
    return list(content.get(language, MENU_KEY).options)


def menu_reply(content: ContentStore, language: str) -> Reply:
    return answer(content, language, MENU_KEY)


def _number(text: str) -> int | None:
    """'2', '2.' or ' 2) ' as 2; anything else is not a number the person typed."""
    stripped = text.strip().rstrip(".)")
    return int(stripped) if stripped.isdigit() else None


def out_of_range_number(text: str, offered: list[str]) -> bool:
    """A plain number that picks nothing: the person meant an option, not symbols."""
    number = _number(text)
    return number is not None and not 0 < number <= len(offered)


def choice_from_number(text: str, offered: list[str]) -> str | None:
    """'2' (or '2.' / ' 2 ') picks the second option last offered; anything else is not a choice."""
    number = _number(text)
    if number is None:
        return None
    return offered[number - 1] if 0 < number <= len(offered) else None
