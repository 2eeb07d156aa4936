"""Which language a message is written in: Spanish, English, another, or unclear.

Short chat messages defeat statistical detectors, so this counts marker words
(`nlu/language_markers.yml`) plus words that only one language's training data
uses. "Unclear" is a real answer: the engine then keeps the user's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kernel.normalize import normalize_text, words


@dataclass(frozen=True)
class Detection:
    language: str | None
    supported: bool


class LanguageDetector:
    def __init__(
        self,
        markers: Mapping[str, Iterable[str]],
        supported: Iterable[str],
        exclusive_vocabulary: Mapping[str, set[str]] | None = None,
    ) -> None:
        self._markers = {lang: set(items) for lang, items in markers.items()}
        self._supported = tuple(supported)
        self._exclusive = dict(exclusive_vocabulary or {})

    @classmethod
    def from_examples(
        cls,
        markers: Mapping[str, Iterable[str]],
        supported: Iterable[str],
        examples: Iterable[tuple[str, str]],
    ) -> LanguageDetector:
        """`examples` are (language, text) pairs from the training data."""
        vocab: dict[str, set[str]] = {}
        for language, text in examples:
            vocab.setdefault(language, set()).update(words(normalize_text(text)))
        exclusive = {
            lang: {
                w
                for w in ws
                if len(w) > 3 and all(w not in o for k, o in vocab.items() if k != lang)
            }
            for lang, ws in vocab.items()
        }
        return cls(markers, supported, exclusive)

    def detect(self, text: str) -> Detection:
        tokens = words(normalize_text(text))
        if not tokens:
            return Detection(None, True)
        scores: dict[str, float] = {}
        for lang, marker_words in self._markers.items():
            scores[lang] = float(sum(1 for t in tokens if t in marker_words))
        for lang, vocab in self._exclusive.items():
            scores[lang] = scores.get(lang, 0.0) + 0.5 * sum(1 for t in tokens if t in vocab)
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        best, best_score = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if best_score == 0 or best_score == runner_up:
            return Detection(None, True)
        if best in self._supported:
            return Detection(best, True)
        supported_best = max(scores.get(lang, 0.0) for lang in self._supported)
        # Another language only when it clearly dominates: names and loanwords are common.
        if best_score >= 2 and best_score >= 2 * supported_best:
            return Detection(best, False)
        return Detection(None, True)
