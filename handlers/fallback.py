"""Low confidence: offer the two likeliest topics and the menu instead of guessing."""

from __future__ import annotations

from handlers.answers import buttons_for
from handlers.menu import MENU_KEY, menu_options
from kernel.types import ContentStore, IntentResult, Reply

SUGGESTIONS = 2


def likely_topics(content: ContentStore, language: str, result: IntentResult | None) -> list[str]:
    if result is None:
        return []
    topics = set(menu_options(content, language))
    ranked = sorted(result.ranking, key=lambda item: item[1], reverse=True)
    return [name for name, _ in ranked if name in topics][:SUGGESTIONS]


def fallback_reply(
    content: ContentStore, language: str, result: IntentResult | None, key: str = "fallback"
) -> Reply:
    options = [*likely_topics(content, language, result), MENU_KEY]
    return Reply(
        text=content.get(language, key).text,
        buttons=buttons_for(content, language, options),
        content_key=key,
    )
