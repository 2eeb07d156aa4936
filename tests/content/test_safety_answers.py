"""The answers a person in danger reads on a phone: what to do first, few numbers, short.

The first line is pinned word for word: changing it is a decision, not an edit.
"""

from __future__ import annotations

import re

import pytest

from bot.content import FileContentStore

SAFETY_MAX_CHARS = 600
MAX_NUMBERS_AFTER_FIRST_LINE = 3

FIRST_LINES = {
    ("es", "trafficking_emergency"): "Si hay peligro ahora, llamá al 911.",
    ("en", "trafficking_emergency"): "If there is danger right now, call 911.",
    ("es", "crisis_support"): "Si pensás hacerte daño ahora, llamá al 911.",
    ("en", "crisis_support"): "If you are thinking of hurting yourself now, call 911.",
    ("es", "child_protection"): (
        "Si una niña, niño o adolescente está en peligro ahora, llamá al 911."
    ),
    ("en", "child_protection"): "If a child or teenager is in danger right now, call 911.",
    ("es", "child_alone"): "Si estás en peligro ahora, llamá al 911.",
    ("en", "child_alone"): "If you are in danger right now, call 911.",
}
WATCHED_PHONE_TIP = {
    "es": "Si alguien revisa tu teléfono, borrá este chat",
    "en": "If someone checks your phone, delete this chat",
}
PHONE = re.compile(r"(?<![\d$.,])(\+?\d[\d -]{1,14}\d)(?![\d%])")


def _numbers(text: str) -> set[str]:
    digits = {re.sub(r"\D", "", n) for n in PHONE.findall(text)}
    return {d for d in digits if len(d) >= 3}


@pytest.mark.parametrize(("language", "key"), sorted(FIRST_LINES))
def test_safety_answer_says_what_to_do_first_and_fits_a_phone(
    content: FileContentStore, language: str, key: str
) -> None:
    entry = content.get(language, key)
    lines = entry.text.splitlines()
    assert lines[0] == FIRST_LINES[(language, key)]
    assert len(entry.text) <= SAFETY_MAX_CHARS, f"{len(entry.text)} characters"
    later = _numbers("\n".join(lines[1:])) - _numbers(lines[0])
    assert len(later) <= MAX_NUMBERS_AFTER_FIRST_LINE, sorted(later)
    assert WATCHED_PHONE_TIP[language] in entry.text
    assert not entry.needs_review, "only confirmed numbers go in a safety answer"


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_rest_of_the_numbers_sit_behind_a_button(
    content: FileContentStore, language: str
) -> None:
    emergency = content.get(language, "trafficking_emergency")
    assert emergency.options[0] == "emergency_numbers"
    more = content.get(language, "emergency_numbers")
    assert "1-888-373-7888" in more.text and "800 5533 000" in more.text
    assert content.get(language, "crisis_support").options[0] == "crisis_lines"
    assert content.get(language, "child_protection").options[0] == "child_alone"


@pytest.mark.parametrize("language", ["es", "en"])
def test_crisis_answer_leads_with_confirmed_crisis_lines(
    content: FileContentStore, language: str
) -> None:
    lines = content.get(language, "crisis_support").text.splitlines()
    head = "\n".join(lines[:5])
    assert "988" in head  # US Suicide & Crisis Lifeline
    assert "800 911 2000" in head  # Mexico, Línea de la Vida
    # Unconfirmed lines (facts.md v2 §1) stay out until staff test-call them.
    for unconfirmed in ("7071-1302", "131 "):
        assert unconfirmed not in content.get(language, "crisis_support").text
        assert unconfirmed not in content.get(language, "crisis_lines").text


@pytest.mark.parametrize("language", ["es", "en"])
def test_child_version_speaks_to_the_child(content: FileContentStore, language: str) -> None:
    text = content.get(language, "child_alone").text
    you = {"es": "tenés menos de 18 años", "en": "you are under 18"}[language]
    assert you in text
    assert "119" in text
