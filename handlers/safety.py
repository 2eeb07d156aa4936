"""The safety rule: danger is never left to the classifier or the fallback.

A phrase from the curated danger lists (content/*/danger_phrases.yml) wins over
any intent, and so does a trafficking or self-harm score at or above the safety
threshold in the whole text or in any of its sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from kernel.normalize import normalize_text
from kernel.types import DangerPhrases, HandoffRequest, IntentResult, Urgency

EMERGENCY_KEY = "trafficking_emergency"
CRISIS_KEY = "crisis_support"
SELF_HARM_KEY = "self_harm"  # the intent; its answer is the crisis answer
# A sentence's best reading counts as danger from this confidence or the safety
# threshold, whichever is higher; 0 leaves the safety threshold alone.
SENTENCE_THRESHOLD = 0.0
# A sentence's danger counts only when the whole text gives that danger at least this
# score; 0 turns the check off. Both stay off: on our own held-out data each lost
# danger told next to a calm question for a few fewer false alarms, and with the
# 130 own several-sentence messages every variant measured (corroboration 0.001 or
# 0.01, sure 0.6 to 0.95, trafficking only or both) lost a message about a rope
# already bought (bench/safety_threshold.py --changes, docs/benchmarks.md).
CORROBORATION = 0.0
# A sentence whose danger the whole text does not corroborate still counts from this
# confidence: only uncorroborated readings below it are taken for a calm story sentence.
# 0 lets every sentence count whatever the corroboration.
SENTENCE_SURE = 0.0
# The dangers whose uncorroborated, unsure sentences may be taken for calm stories.
# Never self-harm: a sentence about means at hand ("ya compré la soga") next to a calm
# question can read low and alone, and it must still reach the crisis answer.
QUIETABLE = frozenset({EMERGENCY_KEY})
# In a message with a marker of news or hearsay (the `reported` list: "vi en las
# noticias", "I read that"), a trafficking reading by the model counts only from this
# confidence: a rescue or a raid in the news reads like trafficking without anyone
# being at risk. Self-harm is never raised, and the phrase lists still decide alone, so
# "a mí me tienen igual, no me dejan salir" told beside the news still alarms. Chosen
# on our own held-out data (bench/safety_threshold.py reported=..., docs/benchmarks.md).
REPORTED_THRESHOLD = 0.5


class Danger(StrEnum):
    EMERGENCY = "emergency"
    CRISIS = "crisis"


def _pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    alternatives = sorted({re.escape(p) for p in phrases if p}, key=len, reverse=True)
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


class DangerMatcher:
    """The curated lists. Figurative idioms ("me quiero morir de la vergüenza") are
    blanked out before the scan, and a marker of a danger long over ("hace dos años
    me secuestraron") makes the lists stand back: the model still reads the message
    (danger_from_any), so a present danger told with a past story is not lost."""

    def __init__(self, phrases: DangerPhrases) -> None:
        self._emergency = _pattern(phrases.emergency)
        self._crisis = _pattern(phrases.crisis)
        self._figurative = _pattern(phrases.figurative)
        self._past = _pattern(phrases.past)
        self._reported = _pattern(phrases.reported)

    def scan(self, text: str) -> Danger | None:
        normalized = normalize_text(text)
        if self._past is not None and self._past.search(normalized):
            return None
        if self._figurative is not None:
            normalized = self._figurative.sub(" ", normalized)
        if self._emergency is not None and self._emergency.search(normalized):
            return Danger.EMERGENCY
        if self._crisis is not None and self._crisis.search(normalized):
            return Danger.CRISIS
        return None

    def reported(self, text: str) -> bool:
        """Whether the text tells of danger as news or hearsay (see REPORTED_THRESHOLD)."""
        return self._reported is not None and bool(self._reported.search(normalize_text(text)))


def danger_from_intent(
    result: IntentResult, safety_threshold: float, emergency_floor: float = 0.0
) -> Danger | None:
    """Danger read by the model: trafficking or self-harm at or above the safety
    threshold anywhere in the ranking, whatever intent wins; trafficking also at or
    above `emergency_floor` (raised for news and hearsay)."""
    emergency, crisis = result.score(EMERGENCY_KEY), result.score(SELF_HARM_KEY)
    emergency = emergency if emergency >= max(safety_threshold, emergency_floor) else 0.0
    crisis = crisis if crisis >= safety_threshold else 0.0
    if not emergency and not crisis:
        return None
    return Danger.EMERGENCY if emergency >= crisis else Danger.CRISIS


def danger_from_any(
    whole: IntentResult,
    parts: Iterable[IntentResult],
    safety_threshold: float,
    sentence_threshold: float = SENTENCE_THRESHOLD,
    corroboration: float = CORROBORATION,
    sure: float = SENTENCE_SURE,
    quietable: frozenset[str] = QUIETABLE,
    reported: float = 0.0,
) -> Danger | None:
    """The intents contract: danger in the whole text or in any of its sentences.

    The whole text counts at the safety threshold anywhere in its ranking; a
    sentence or clause counts only when danger is its best reading (and at
    `sentence_threshold` if that is higher), because short fragments ("si regreso",
    "la otra vez") spread their scores thinly and would otherwise raise false alarms
    that bury the real ones in the staff inbox. A sentence is never overruled by a
    calm reading of the whole text: a calm question next to a danger sentence must
    still alarm. bench/safety_threshold.py measured both rules on our own held-out
    data (docs/benchmarks.md).

    `reported` is the threshold for trafficking readings when the message tells of
    danger as news or hearsay (REPORTED_THRESHOLD); 0 when it does not."""
    found = {danger_from_intent(whole, safety_threshold, reported)}
    floor = max(safety_threshold, sentence_threshold)
    found |= {
        danger_from_intent(IntentResult(p.intent, p.confidence), floor, reported)
        for p in parts
        if p.intent in (EMERGENCY_KEY, SELF_HARM_KEY)
        and (
            p.intent not in quietable
            or whole.score(p.intent) >= corroboration
            or p.confidence >= sure
        )
    }
    found -= {None}
    if Danger.EMERGENCY in found:
        return Danger.EMERGENCY
    return Danger.CRISIS if Danger.CRISIS in found else None


def without_intent(result: IntentResult, intent: str) -> IntentResult:
    """The reading with `intent` taken out, its runner-up first: in a message told as
    news, a trafficking reading too weak to alarm must not be answered as a topic
    either (answering `trafficking_emergency` is the emergency answer)."""
    ranking = tuple((name, score) for name, score in result.ranking if name != intent)
    if result.intent != intent:
        return IntentResult(result.intent, result.confidence, ranking)
    best_intent, best_score = ranking[0] if ranking else (result.intent, 0.0)
    return IntentResult(best_intent, best_score, ranking)


def handoff_for(danger: Danger) -> HandoffRequest:
    if danger is Danger.EMERGENCY:
        return HandoffRequest(reason=EMERGENCY_KEY, urgency=Urgency.CRITICAL)
    return HandoffRequest(reason=CRISIS_KEY, urgency=Urgency.CRITICAL)


def content_key_for(danger: Danger) -> str:
    return EMERGENCY_KEY if danger is Danger.EMERGENCY else CRISIS_KEY
