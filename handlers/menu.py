"""The main menu and numbered choices, which work even when the NLU is down."""

from __future__ import annotations

from bot.core import ContentStore, Reply
from handlers.answers import answer

MENU_KEY = "menu"


def menu_options(content: ContentStore, language: str) -> list[str]:
    return list(content.get(language, MENU_KEY).options)


def menu_reply(content: ContentStore, language: str) -> Reply:
    return answer(content, language, MENU_KEY)


def out_of_range_number(text: str, offered: list[str]) -> bool:
    """A plain number that picks nothing: the person meant an option, not symbols."""
    stripped = text.strip().rstrip(".)")
    return stripped.isdigit() and choice_from_number(text, offered) is None


def choice_from_number(text: str, offered: list[str]) -> str | None:
    """'2' (or '2.' / ' 2 ') picks the second option last offered; anything else is not a choice."""
    stripped = text.strip().rstrip(".)")
    if not stripped.isdigit():
        return None
    index = int(stripped) - 1
    return offered[index] if 0 <= index < len(offered) else None
