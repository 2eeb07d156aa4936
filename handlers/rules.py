"""Everything routing reads besides the message and the person's state."""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.safety import Danger, DangerMatcher
from kernel.commands import Commands
from kernel.language import LanguageDetector
from kernel.text_guard import Vocabulary
from kernel.types import ContentStore, DangerPhrases


@dataclass(frozen=True)
class EngineConfig:
    languages: tuple[str, ...]
    default_language: str
    max_message_chars: int
    fallback_threshold: float
    safety_threshold: float
    min_known_word_share: float
    handoff_silence_seconds: float = 24 * 3600
    second_need_threshold: float = 0.6


class DangerScan:
    """The danger phrase lists as one matcher, rebuilt when staff publish new lists."""

    def __init__(self, content: ContentStore) -> None:
        self._content = content
        self._source: DangerPhrases | None = None
        self._matcher: DangerMatcher | None = None

    def __call__(self, text: str) -> Danger | None:
        return self._current().scan(text)

    def reported(self, text: str) -> bool:
        return self._current().reported(text)

    def _current(self) -> DangerMatcher:
        phrases = self._content.danger_phrases()
        if self._matcher is None or phrases is not self._source:
            self._source, self._matcher = phrases, DangerMatcher(phrases)
        return self._matcher


@dataclass(frozen=True)
class Rules:
    config: EngineConfig
    content: ContentStore
    commands: Commands
    detector: LanguageDetector
    vocabulary: Vocabulary
    danger_scan: DangerScan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "danger_scan", DangerScan(self.content))
