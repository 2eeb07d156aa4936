from __future__ import annotations

from bot.channels.render import numbered_messages, numbered_text, split_text
from kernel.types import Button, Reply


def test_buttons_degrade_to_numbered_lines() -> None:
    reply = Reply(
        "Elegí un tema:", (Button("Asilo", "topic:asylum"), Button("DUI", "topic:documents"))
    )
    assert numbered_text(reply) == "Elegí un tema:\n\n1. Asilo\n2. DUI"


def test_split_keeps_order_limit_and_every_word() -> None:
    text = "\n\n".join(f"Párrafo {i}: " + "palabra " * 40 for i in range(30))
    parts = split_text(text, 500)
    assert all(len(p) <= 500 for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_unbroken_text_is_cut_at_the_limit() -> None:
    parts = numbered_messages([Reply("x" * 1000)], 300)
    assert [len(p) for p in parts] == [300, 300, 300, 100]
