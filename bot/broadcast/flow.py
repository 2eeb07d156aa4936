"""The conversation side of alerts: subscribe by asking, pick topics, stop with one phrase.

A small hook the dispatcher calls before its own routing (after the danger
check): it answers subscription requests and lets everything else through.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.broadcast.config import BroadcastConfig
from bot.broadcast.topics import Topics
from bot.db.subscriptions import Subscriptions
from bot.privacy import Protector
from bot.settings import Settings
from handlers.answers import answer, topic_payload
from handlers.menu import choice_from_number, menu_options
from kernel.normalize import normalize_text
from kernel.types import (
    Button,
    ContentStore,
    EngineResult,
    IncomingMessage,
    Reply,
    Route,
    UserState,
)

PROMPT_KEY = "alerts_subscribe"
PICK_ACTION = "alerts_pick"
PAYLOAD_PREFIX = "alerts:"
ALL = "all"
ALL_LABELS = {"es": "Todos los temas", "en": "All topics"}


def _clean(text: str) -> str:
    return normalize_text(text).strip(" .!¡?¿")


@dataclass(frozen=True)
class AlertPhrases:
    subscribe: frozenset[str]
    unsubscribe: frozenset[str]
    opt_out: frozenset[str]

    @classmethod
    def from_file(cls, path: Path) -> AlertPhrases:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))

        def phrases(name: str) -> frozenset[str]:
            return frozenset(_clean(str(p)) for p in data.get(name) or [])

        return cls(phrases("alerts_subscribe"), phrases("alerts_unsubscribe"), phrases("opt_out"))


class SubscriptionFlow:
    def __init__(
        self,
        topics: Topics,
        content: ContentStore,
        subscriptions: Subscriptions,
        phrases: AlertPhrases,
        config: BroadcastConfig,
    ) -> None:
        self._topics = topics
        self._content = content
        self._subscriptions = subscriptions
        self._phrases = phrases
        self._config = config

    def _prompt(self, language: str, state: UserState) -> EngineResult:
        state.pending_action = PICK_ACTION
        prompt = answer(self._content, language, PROMPT_KEY)
        buttons = (
            *(Button(t.name(language), f"{PAYLOAD_PREFIX}{t.key}") for t in self._topics.items),
            Button(ALL_LABELS.get(language, ALL_LABELS["en"]), f"{PAYLOAD_PREFIX}{ALL}"),
        )
        return EngineResult(
            [Reply(prompt.text, buttons, PROMPT_KEY)],
            language,
            PROMPT_KEY,
            route=Route.ALERTS_PROMPT,
        )

    def _text(self, language: str, key: str, **values: str) -> str:
        text = self._content.get(language, key).text
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        return text

    async def _subscribe(
        self, message: IncomingMessage, state: UserState, language: str, choice: str
    ) -> EngineResult:
        state.pending_action = None
        chosen = list(self._topics.keys) if choice == ALL else [choice]
        have = await self._subscriptions.subscribe(
            message.channel, message.user_id, language, chosen
        )
        names = ", ".join(
            topic.name(language) for key in have if (topic := self._topics.get(key)) is not None
        )
        text = self._text(
            language,
            "alerts_done",
            topics=names,
            max_per_week=str(self._config.max_per_week),
            inactive_days=str(self._config.inactive_days),
        )
        return EngineResult(
            [Reply(text, content_key="alerts_done")],
            language,
            "alerts_done",
            route=Route.ALERTS_DONE,
        )

    def _picked(self, message: IncomingMessage, state: UserState, text: str) -> str | None:
        """A topic key, ALL, or None: from a button, or a number after the prompt."""
        payload = message.payload or ""
        if payload.startswith(PAYLOAD_PREFIX):
            choice = payload[len(PAYLOAD_PREFIX) :]
            return choice if choice == ALL or choice in self._topics.keys else None
        if state.pending_action == PICK_ACTION and text:
            return choice_from_number(text, [*self._topics.keys, ALL])
        return None

    def _asks_for_prompt(self, message: IncomingMessage, state: UserState, text: str) -> bool:
        if message.payload == topic_payload(PROMPT_KEY) or (
            not message.payload and _clean(text) in self._phrases.subscribe
        ):
            return True
        # "15" from the main menu on a channel without buttons.
        if message.payload or state.pending_action is not None or not text:
            return False
        offered = state.last_options or menu_options(self._content, state.language or "es")
        return choice_from_number(text, offered) == PROMPT_KEY

    async def route(
        self, message: IncomingMessage, state: UserState, language: str, text: str
    ) -> EngineResult | None:
        """An answer for subscription requests; None lets the dispatcher route as usual."""
        if state.pending_action not in (None, PICK_ACTION):
            return None  # e.g. a pending erasure confirmation comes first
        cleaned = _clean(text) if text and not message.payload else ""
        if cleaned in self._phrases.unsubscribe:
            state.pending_action = None
            await self._subscriptions.unsubscribe(message.channel, message.user_id)
            return EngineResult(
                [answer(self._content, language, "alerts_stopped")],
                language,
                "alerts_stopped",
                route=Route.ALERTS_STOPPED,
            )
        if cleaned in self._phrases.opt_out:
            # WhatsApp's STOP: no proactive message of any kind, alerts included.
            await self._subscriptions.unsubscribe(message.channel, message.user_id)
            return None
        choice = self._picked(message, state, text)
        if choice is not None:
            return await self._subscribe(message, state, language, choice)
        if self._asks_for_prompt(message, state, text):
            return self._prompt(language, state)
        if state.pending_action == PICK_ACTION:
            state.pending_action = None  # they moved on to something else
        return None


def build_flow(
    settings: Settings, content: ContentStore, engine: AsyncEngine, protector: Protector
) -> SubscriptionFlow:
    config = BroadcastConfig.from_settings(settings)
    return SubscriptionFlow(
        Topics.from_file(config.topics_file, settings.languages),
        content,
        Subscriptions(engine, protector),
        AlertPhrases.from_file(settings.nlu.config.parent / "commands.yml"),
        config,
    )
