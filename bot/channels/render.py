"""Rendering shared by channels that cannot show buttons: options become numbered lines."""

from __future__ import annotations

from collections.abc import Iterable

from kernel.types import Reply


def numbered_text(reply: Reply) -> str:
    if not reply.buttons:
        return reply.text
    lines = [f"{index}. {button.label}" for index, button in enumerate(reply.buttons, start=1)]
    return reply.text.rstrip() + "\n\n" + "\n".join(lines)


def split_text(text: str, limit: int) -> list[str]:
    """Split at paragraph, then line, then word boundaries so no part exceeds `limit`."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), 0)
        if cut < limit // 2:
            cut = window.rfind("\n")
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return [part for part in parts if part]


def numbered_messages(replies: Iterable[Reply], limit: int) -> list[str]:
    messages: list[str] = []
    for reply in replies:
        messages.extend(split_text(numbered_text(reply), limit))
    return messages
