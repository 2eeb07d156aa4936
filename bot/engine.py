"""Assemble the conversation engine from settings: the one place that knows every part."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from bot.content import FileContentStore
from bot.dispatcher import Dispatcher
from bot.memory_state import InMemoryStateStore
from bot.metrics import Metrics
from bot.office_hours import OfficeHours
from bot.settings import Settings
from bot.text_resources import TextResources, load_text_resources
from handlers.rules import EngineConfig
from kernel.types import ContentStore, Handle, IntentClassifier, StateStore


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        languages=settings.languages,
        default_language=settings.default_language,
        max_message_chars=settings.max_message_chars,
        fallback_threshold=settings.nlu.fallback_threshold,
        safety_threshold=settings.nlu.safety_threshold,
        second_need_threshold=settings.nlu.second_need_threshold,
        min_known_word_share=settings.nlu.min_known_word_share,
        handoff_silence_seconds=settings.handoff_silence_hours * 3600,
    )


def file_content(settings: Settings) -> FileContentStore:
    return FileContentStore.from_dir(
        settings.content_dir, settings.languages, settings.default_language
    )


@functools.cache
def _text_resources(data_dir: Path, nlu_dir: Path, languages: tuple[str, ...]) -> TextResources:
    """Read the training data and word lists once per process: they are read-only and
    every dispatcher (each worker's, each test gate run) needs the same ones."""
    return load_text_resources(data_dir, nlu_dir, languages)


def build_dispatcher(
    settings: Settings,
    classifier: IntentClassifier,
    states: StateStore,
    content: ContentStore,
    metrics: Metrics | None = None,
) -> Dispatcher:
    text = _text_resources(
        settings.nlu.data_dir, settings.nlu.config.parent, settings.languages
    )
    return Dispatcher(
        engine_config(settings),
        classifier,
        content,
        states,
        text.detector,
        text.vocabulary,
        text.commands,
        metrics=metrics,
        office_hours=OfficeHours.parse(settings.office_hours),
    )


def engine_over(
    settings: Settings, classifier: IntentClassifier
) -> Callable[[ContentStore], Handle]:
    """Engines over content that is not live yet, for the staff pages' test gate: the same
    classifier and rules, state kept in memory only (gate questions are no one's chat)."""

    def handle_with(content: ContentStore) -> Handle:
        return build_dispatcher(settings, classifier, InMemoryStateStore(), content).handle

    return handle_with
