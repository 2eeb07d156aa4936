"""Find the person's main need in a message of several sentences.

People on WhatsApp greet, apologise or tell what happened before they ask
("hola buenas noches, me deportaron ayer y no sé qué hacer"). A classifier that
reads the whole text lets the greeting or the story decide; so the engine also
classifies each sentence (and, when the whole text reads as a greeting, each
clause), drops the purely social parts and prefers a substantive need. Danger in
any sentence wins (see handlers.safety). These are pure functions: the engine
does the classifying and hands the results in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kernel.normalize import normalize_text, words
from kernel.types import IntentResult

# Saying hello, thanks or goodbye is never the need when something else is asked.
SOCIAL_INTENTS = frozenset({"greet", "thank", "goodbye"})
# Thanks or a goodbye the whole text surely reads close the chat: the story told with
# them ("gracias, mi mamá ya fue a la oficina") is no new question, so a sentence's
# topic is only offered as a button. A greeting opens the chat and gives way.
CLOSINGS = frozenset({"thank", "goodbye"})
CLOSING_SURE = 0.8
# Intents that never become a "second need" button: they are not topics.
OUT_OF_SCOPE = "out_of_scope"
NOT_A_TOPIC = SOCIAL_INTENTS | {OUT_OF_SCOPE, "change_language", "menu"}
# A segment shorter than this (in words) is too little to classify on its own.
MIN_SEGMENT_WORDS = 2
# More segments than this are merged into the last one: each costs a classification.
MAX_SEGMENTS = 6

_SENTENCE_END = re.compile(r"[.!?;\n]+|(?=[¿¡])")
_CLAUSE_END = re.compile(r",")


@dataclass(frozen=True)
class Need:
    """The need to answer, the result it came from, and a clear second need if any."""

    result: IntentResult
    second: str | None = None


def _segments(parts: Sequence[str]) -> list[str]:
    kept = [p.strip() for p in parts if len(words(normalize_text(p))) >= MIN_SEGMENT_WORDS]
    if len(kept) > MAX_SEGMENTS:
        kept = [*kept[: MAX_SEGMENTS - 1], " ".join(kept[MAX_SEGMENTS - 1 :])]
    return kept


def sentences(text: str) -> list[str]:
    """The sentences of a text; a single sentence comes back as an empty list."""
    found = _segments(_SENTENCE_END.split(text))
    return found if len(found) > 1 else []


def clauses(text: str) -> list[str]:
    """Sentences cut further at commas, for texts whose whole reads as a greeting."""
    parts = [c for s in _SENTENCE_END.split(text) for c in _CLAUSE_END.split(s)]
    found = _segments(parts)
    return found if len(found) > 1 else []


def is_substantive(result: IntentResult, threshold: float) -> bool:
    return result.intent not in SOCIAL_INTENTS and result.confidence >= threshold


def needs_clauses(whole: IntentResult, threshold: float) -> bool:
    """Whether the whole text's reading is weak enough to look inside its clauses."""
    return not is_substantive(whole, threshold)


def main_need(
    whole: IntentResult,
    parts: Sequence[IntentResult],
    threshold: float,
    second_threshold: float,
) -> Need:
    """Prefer the whole text's reading when it is a confident, substantive need;
    otherwise the most confident substantive part. A different, confident topic in
    another part becomes the second need, offered as a button."""
    main = whole
    if whole.intent in CLOSINGS and whole.confidence >= CLOSING_SURE:
        candidates = []
    elif not is_substantive(whole, threshold):
        # A greeting followed by chatter ("me pasaron este número en la parroquia")
        # stays a greeting: only one of our topics may take its place.
        candidates = [p for p in parts if p.intent not in NOT_A_TOPIC and p.confidence >= threshold]
    elif whole.intent == OUT_OF_SCOPE:
        # "Not ours" for the whole, but one sentence clearly asks one of our topics.
        floor = max(threshold, whole.confidence)
        candidates = [p for p in parts if p.intent not in NOT_A_TOPIC and p.confidence >= floor]
    else:
        candidates = []
    if candidates:
        main = max(candidates, key=lambda r: r.confidence)
    seconds = [
        p
        for p in parts
        if p.intent != main.intent
        and p.intent not in NOT_A_TOPIC
        and p.confidence >= second_threshold
    ]
    second = max(seconds, key=lambda r: r.confidence).intent if seconds else None
    return Need(result=main, second=second)
