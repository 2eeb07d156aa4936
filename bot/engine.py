"""The conversation engine from settings: its configuration and the dispatcher factory."""

from __future__ import annotations

from collections.abc import Callable

from bot.content import FileContentStore
from bot.dispatcher import Dispatcher
from bot.memory_state import InMemoryStateStore
from bot.metrics import Metrics
from bot.settings import Settings
from bot.text_resources import TextResources
from handlers.rules import EngineConfig
from kernel.types import (
    ContentStore,
    Handle,
    HandoffGate,
    IntentClassifier,
    OnHandoff,
    RouteHook,
    StateStore,
)


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


def build_dispatcher(
    settings: Settings,
    classifier: IntentClassifier,
    states: StateStore,
    content: ContentStore,
    metrics: Metrics | None = None,
    *,
    text: TextResources,
    on_handoff: OnHandoff | None = None,
    handoff_gate: HandoffGate | None = None,
    alerts: RouteHook | None = None,
) -> Dispatcher:
    """A dispatcher from settings and its parts; `text` is read once per process by the
    composition root (`bot/composition.py`) and shared by every dispatcher it builds."""
    return Dispatcher(
        engine_config(settings),
        classifier,
        content,
        states,
        text.detector,
        text.vocabulary,
        text.commands,
        on_handoff=on_handoff,
        metrics=metrics,
        handoff_gate=handoff_gate,
        alerts=alerts,
    )


def engine_over(
    settings: Settings, classifier: IntentClassifier, text: TextResources
) -> Callable[[ContentStore], Handle]:
    """Engines over content that is not live yet, for the staff pages' test gate: the same
    classifier and rules, state kept in memory only (gate questions are no one's chat)."""

    def handle_with(content: ContentStore) -> Handle:
        return build_dispatcher(
            settings, classifier, InMemoryStateStore(), content, text=text
        ).handle

    return handle_with
