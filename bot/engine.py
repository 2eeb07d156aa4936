"""Assemble the conversation engine from settings: the one place that knows every part."""

from __future__ import annotations

from bot.commands import Commands
from bot.content import FileContentStore
from bot.core import ContentStore, IntentClassifier, StateStore
from bot.dispatcher import Dispatcher, EngineConfig
from bot.language import LanguageDetector
from bot.metrics import Metrics
from bot.office_hours import OfficeHours
from bot.settings import Settings
from bot.text_guard import Vocabulary
from nlu.training_data import load_examples


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        languages=settings.languages,
        default_language=settings.default_language,
        max_message_chars=settings.max_message_chars,
        fallback_threshold=settings.nlu.fallback_threshold,
        safety_threshold=settings.nlu.safety_threshold,
        min_known_word_share=settings.nlu.min_known_word_share,
        handoff_silence_seconds=settings.handoff_silence_hours * 3600,
        office_hours=OfficeHours.parse(settings.office_hours),
    )


def file_content(settings: Settings) -> FileContentStore:
    return FileContentStore.from_dir(
        settings.content_dir, settings.languages, settings.default_language
    )


def build_dispatcher(
    settings: Settings,
    classifier: IntentClassifier,
    states: StateStore,
    content: ContentStore,
    metrics: Metrics | None = None,
) -> Dispatcher:
    examples = load_examples(settings.nlu.data_dir)
    detector = LanguageDetector.from_files(
        settings.nlu.config.parent / "language_markers.yml", settings.languages, examples
    )
    vocabulary = Vocabulary.from_texts(e.text for e in examples)
    commands = Commands.from_file(settings.nlu.config.parent / "commands.yml")
    return Dispatcher(
        engine_config(settings),
        classifier,
        content,
        states,
        detector,
        vocabulary,
        commands,
        metrics=metrics,
    )
