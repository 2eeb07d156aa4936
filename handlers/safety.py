"""The safety rule: danger is never left to the classifier or the fallback.

A phrase from the curated danger lists (content/*/danger_phrases.yml) wins over
any intent, and so does a trafficking score above the safety threshold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from bot.core import DangerPhrases, HandoffRequest, IntentResult, Urgency
from nlu.normalize import normalize_text

EMERGENCY_KEY = "trafficking_emergency"
CRISIS_KEY = "crisis_support"


class Danger(StrEnum):
    EMERGENCY = "emergency"
    CRISIS = "crisis"


def _pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    alternatives = sorted({re.escape(p) for p in phrases if p}, key=len, reverse=True)
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


class DangerMatcher:
    def __init__(self, phrases: DangerPhrases) -> None:
        self._emergency = _pattern(phrases.emergency)
        self._crisis = _pattern(phrases.crisis)

    def scan(self, text: str) -> Danger | None:
        normalized = normalize_text(text)
        if self._emergency is not None and self._emergency.search(normalized):
            return Danger.EMERGENCY
        if self._crisis is not None and self._crisis.search(normalized):
            return Danger.CRISIS
        return None


def danger_from_intent(result: IntentResult, safety_threshold: float) -> Danger | None:
    return Danger.EMERGENCY if result.score(EMERGENCY_KEY) >= safety_threshold else None


def handoff_for(danger: Danger) -> HandoffRequest:
    if danger is Danger.EMERGENCY:
        return HandoffRequest(reason=EMERGENCY_KEY, urgency=Urgency.CRITICAL)
    return HandoffRequest(reason=CRISIS_KEY, urgency=Urgency.CRITICAL)


def content_key_for(danger: Danger) -> str:
    return EMERGENCY_KEY if danger is Danger.EMERGENCY else CRISIS_KEY
