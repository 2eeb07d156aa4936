"""Checks on raw text before anything trusts it.

A classifier that knows only our topics still picks one of them, often
confidently, for empty text, emoji and keyboard mashing, so the engine decides
here whether a text is worth classifying at all.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from enum import StrEnum

from kernel.normalize import normalize_text, words


class TextVerdict(StrEnum):
    OK = "ok"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NO_WORDS = "no_words"


def _looks_binary(text: str) -> bool:
    bad = sum(
        1
        for ch in text
        if ch == "\ufffd"
        or (unicodedata.category(ch) in {"Cc", "Cs", "Co", "Cn"} and ch not in "\n\r\t")
    )
    return bad > max(2, len(text) // 20)


def judge_text(text: str, max_chars: int) -> TextVerdict:
    if not text or not text.strip():
        return TextVerdict.EMPTY
    if len(text) > max_chars:
        return TextVerdict.TOO_LONG
    if _looks_binary(text) or not words(normalize_text(text)):
        return TextVerdict.NO_WORDS
    return TextVerdict.OK


class Vocabulary:
    """Words the model was trained on; a text made mostly of others is noise to it."""

    def __init__(self, known: Iterable[str]) -> None:
        self._known = set(known)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Vocabulary:
        known: set[str] = set()
        for text in texts:
            known.update(words(normalize_text(text)))
        return cls(known)

    def known_share(self, text: str) -> float:
        tokens = [t for t in words(normalize_text(text)) if len(t) > 1]
        if not tokens:
            return 0.0
        return sum(1 for t in tokens if t in self._known) / len(tokens)
