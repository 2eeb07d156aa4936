"""The conversation engine: one IncomingMessage in, one EngineResult out.

Order matters and is the safety argument of the product: duplicates are
dropped first, then danger phrases are checked on the raw text before any
length limit, language check, menu shortcut or NLU call can divert the message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from bot.metrics import Metrics
from bot.office_hours import OfficeHours
from handlers import discreet
from handlers.answers import answer, buttons_for, topic_from_payload
from handlers.fallback import fallback_reply
from handlers.language import requested_language
from handlers.menu import (
    MENU_KEY,
    choice_from_number,
    menu_options,
    menu_reply,
    out_of_range_number,
)
from handlers.needs import clauses, main_need, needs_clauses, sentences
from handlers.safety import (
    CRISIS_KEY,
    SELF_HARM_KEY,
    Danger,
    DangerMatcher,
    content_key_for,
    danger_from_any,
    handoff_for,
)
from kernel.commands import Commands
from kernel.language import Detection, LanguageDetector
from kernel.text_guard import TextVerdict, Vocabulary, judge_text
from kernel.types import (
    Button,
    ContentStore,
    EngineResult,
    HandoffEvent,
    HandoffGate,
    HandoffRequest,
    IncomingMessage,
    IntentClassifier,
    IntentResult,
    MessageKind,
    NLUUnavailableError,
    OnHandoff,
    Reply,
    RouteHook,
    StateStore,
    Urgency,
    UserState,
)

log = logging.getLogger(__name__)

HUMAN_KEY = "talk_to_human"
LANGUAGE_KEY = "change_language"
LANGUAGE_PROMPT = "language_prompt"
CHILD_KEY = "child_protection"
REFERRAL_PREFIX = "referral_"
REFERRAL_MENU = "referral_menu"
LANGUAGE_PREFIX = "lang:"
OUT_OF_SCOPE_KEY = "out_of_scope"
# Intents whose answer ends with the menu so the person always has a next step.
WITH_MENU = frozenset({"greet", "thank"})
# Tickets the person asked for: only then do their messages go to the inbox.
REQUESTED_TICKETS = (HUMAN_KEY, REFERRAL_PREFIX)
MEDIA_KINDS = frozenset(
    {
        MessageKind.VOICE,
        MessageKind.AUDIO,
        MessageKind.VIDEO,
        MessageKind.IMAGE,
        MessageKind.DOCUMENT,
        MessageKind.STICKER,
        MessageKind.OTHER,
    }
)


METRIC_HELP = {
    "ventanilla_messages_total": "Messages handled, by channel and route",
    "ventanilla_message_seconds": "Time to decide the answer to one message",
    "ventanilla_nlu_errors_total": "Messages answered with the menu because the NLU failed",
    "ventanilla_store_errors_total": "Storage operations that failed while answering",
    "ventanilla_dropped_writes_total": "Exchanges that could not be stored",
    "ventanilla_write_retries_total": "Batches of exchanges retried after a storage failure",
    "ventanilla_engine_errors_total": "Unexpected engine failures answered with the menu",
    "ventanilla_handoffs_refused_total": "New tickets refused by the per-person cooldown",
}


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
    office_hours: OfficeHours | None = None


class Dispatcher:
    def __init__(
        self,
        config: EngineConfig,
        classifier: IntentClassifier,
        content: ContentStore,
        states: StateStore,
        detector: LanguageDetector,
        vocabulary: Vocabulary,
        commands: Commands,
        on_handoff: OnHandoff | None = None,
        metrics: Metrics | None = None,
        handoff_gate: HandoffGate | None = None,
        alerts: RouteHook | None = None,
    ) -> None:
        self._config = config
        self._classifier = classifier
        self._content = content
        self._states = states
        self._detector = detector
        self._vocabulary = vocabulary
        self._commands = commands
        self.on_handoff = on_handoff
        self.handoff_gate = handoff_gate
        self.metrics = metrics or Metrics()
        for name, text in METRIC_HELP.items():
            self.metrics.describe(name, text)
        self._danger_source = content.danger_phrases()
        self._danger_matcher = DangerMatcher(self._danger_source)
        # Alert subscriptions (bot/broadcast/flow.py).
        self.alerts = alerts

    def _danger_scan(self, text: str) -> Danger | None:
        phrases = self._content.danger_phrases()
        if phrases is not self._danger_source:  # staff published a new list
            self._danger_source, self._danger_matcher = phrases, DangerMatcher(phrases)
        return self._danger_matcher.scan(text)

    async def handle(self, message: IncomingMessage) -> EngineResult:
        started = time.perf_counter()
        try:
            result = await self._handle(message)
        except Exception:
            # A bug must not leave a person without an answer: apologise with the menu.
            log.exception("engine failure; answering with the menu")
            self.metrics.inc("ventanilla_engine_errors_total")
            language = message.language_hint or self._config.default_language
            if language not in self._config.languages:
                language = self._config.default_language
            danger = self._danger_scan(message.text) if message.text else None
            key = content_key_for(danger) if danger is not None else "nlu_unavailable"
            result = EngineResult(
                replies=[answer(self._content, language, key)],
                language=language,
                route="engine_error",
            )
        self.metrics.inc("ventanilla_messages_total", channel=message.channel, route=result.route)
        self.metrics.observe(
            "ventanilla_message_seconds", time.perf_counter() - started, channel=message.channel
        )
        return result

    async def _handle(self, message: IncomingMessage) -> EngineResult:
        # The database may fail; a person must still get an answer. Each storage step
        # degrades on its own and is counted, so staff see it on /metrics.
        if message.message_id:
            try:
                first = await self._states.first_time_seen(message.channel, message.message_id)
            except Exception:
                log.exception("deduplication unavailable; answering anyway")
                self.metrics.inc("ventanilla_store_errors_total", operation="dedupe")
                first = True
            if not first:
                return EngineResult(replies=[], language="", route="duplicate", duplicate=True)
        try:
            await self._content.refresh()
        except Exception:
            # Keep serving what is in memory: a database hiccup must not silence the bot.
            log.exception("content refresh failed; serving the last published answers")
            self.metrics.inc("ventanilla_store_errors_total", operation="content")
        try:
            state = await self._states.load(message.channel, message.user_id)
        except Exception:
            log.exception("user state unavailable; answering without it")
            self.metrics.inc("ventanilla_store_errors_total", operation="load")
            state = UserState()
        result = await self._route(message, state)
        if result.route == "deleted":
            return result  # nothing about this person may be written again
        if result.handoff is not None:
            await self._hand_off(message, state, result)
        if not state.privacy_notice_shown and result.replies:
            state.privacy_notice_shown = True
            notice = answer(self._content, result.language, "privacy_notice")
            # Danger first: the emergency numbers are never pushed below a notice.
            if result.route.startswith("safety"):
                result.replies.append(notice)
            else:
                result.replies.insert(0, notice)
        discreet.apply(result, state, self._content)
        state.last_options = [
            key
            for reply in result.replies
            for key in (topic_from_payload(b.payload) for b in reply.buttons)
            if key
        ] or state.last_options
        try:
            await self._states.record(message, state, result)
        except Exception:
            # The person still gets the answer; staff see the failure in the logs.
            log.exception("could not store the exchange (route %s)", result.route)
            self.metrics.inc("ventanilla_dropped_writes_total")
        log.info(
            "message handled",
            extra={
                "channel": message.channel,
                "route": result.route,
                "intent": result.intent,
                "confidence": result.confidence,
                "language": result.language,
            },
        )
        return result

    def _language(self, state: UserState, message: IncomingMessage) -> str:
        hint = message.language_hint if message.language_hint in self._config.languages else None
        return state.language or hint or self._config.default_language

    def _reply(self, language: str, key: str, route: str) -> EngineResult:
        return EngineResult(
            replies=[answer(self._content, language, key)], language=language, route=route
        )

    def _with_menu(self, language: str, key: str) -> list[Reply]:
        return [answer(self._content, language, key, extra_options=(MENU_KEY,))]

    async def _route(self, message: IncomingMessage, state: UserState) -> EngineResult:
        language = self._language(state, message)
        if not message.is_private_chat:
            return self._reply(language, "group_chat", "group_chat")
        text = message.text
        danger = self._danger_scan(text) if text else None
        detection = self._detector.detect(text) if text else None
        detected = detection.language if detection is not None and detection.supported else None
        if detected and not state.language_locked:
            state.language = language = detected
        if danger is not None:
            return self._danger(danger, language, None)
        returned: list[Reply] = []
        # Requests about the person's own data are never swallowed by the inbox.
        own_data = bool(text) and (
            state.pending_action is not None
            or self._commands.asks_to_delete(text)
            or self._commands.opts_out(text)
            or self._commands.opts_in(text)
            or self._commands.discreet_switch(text) is not None
        )
        if not state.open_ticket:
            state.with_human = False
        elif state.ticket_idle_seconds >= self._config.handoff_silence_seconds and not own_data:
            await self._states.close_handoff(state.open_ticket, "returned_to_bot")
            state.open_ticket, state.with_human = None, False
            returned.append(answer(self._content, language, "handoff_returned"))
        elif state.with_human and not own_data:
            if not self._asks_for_menu(message, text):
                return self._reply(language, "handoff_waiting", "to_inbox")
            state.with_human = False  # "menu" always returns the person to the bot
            return self._menu(language)
        routed = await self._route_message(message, state, language, text, detection)
        routed.replies[:0] = returned
        return routed

    async def _route_message(
        self,
        message: IncomingMessage,
        state: UserState,
        language: str,
        text: str,
        detection: Detection | None,
    ) -> EngineResult:
        if message.kind is MessageKind.LOCATION:
            return self._reply(language, "location_received", "location")
        if message.kind is MessageKind.CONTACT:
            return self._reply(language, "contact_received", "contact")
        if message.kind in MEDIA_KINDS:
            return EngineResult(
                replies=self._with_menu(language, "unsupported_media"),
                language=language,
                route="media",
            )
        if self.alerts is not None:
            subscribed = await self.alerts.route(message, state, language, text)
            if subscribed is not None:
                return subscribed
        if message.payload:
            by_payload = self._from_payload(message.payload, language, state)
            if by_payload is not None:
                return by_payload

        verdict = judge_text(text, self._config.max_message_chars)
        if verdict is TextVerdict.EMPTY:
            return self._reply(language, "empty_message", "empty")
        if state.pending_action == "confirm_delete":
            state.pending_action = None
            if self._commands.confirms(text):
                await self._states.forget(message.channel, message.user_id)
                return self._reply(language, "delete_done", "deleted")
            return self._reply(language, "delete_cancelled", "delete_cancelled")
        if self._commands.opts_out(text):
            state.proactive_opt_out = True
            return self._reply(language, "opt_out_done", "opt_out")
        if self._commands.opts_in(text):
            state.proactive_opt_out = False
            return self._reply(language, "opt_in_done", "opt_in")
        if self._commands.asks_to_delete(text):
            state.pending_action = "confirm_delete"
            return self._reply(language, "delete_confirm", "delete_confirm")
        discreet_switch = self._commands.discreet_switch(text)
        if discreet_switch is not None:
            return self._answer_intent(discreet_switch, 1.0, language, state, route="discreet")
        if verdict is TextVerdict.TOO_LONG:
            return self._reply(language, "message_too_long", "too_long")
        if self._commands.asks_for_menu(text):
            return self._menu(language)
        offered = state.last_options or menu_options(self._content, language)
        chosen = choice_from_number(text, offered)
        if chosen is not None:
            return self._answer_intent(chosen, 1.0, language, state, route="number")
        if out_of_range_number(text, offered):
            return self._number_out_of_range(language, offered)
        if verdict is TextVerdict.NO_WORDS:
            return EngineResult(
                replies=self._with_menu(language, "not_understood"),
                language=language,
                route="no_words",
            )

        if detection is not None and not detection.supported:
            return self._reply(language, "unsupported_language", "other_language")

        if self._vocabulary.known_share(text) < self._config.min_known_word_share:
            return EngineResult(
                replies=[
                    answer(self._content, language, "unknown_words", (MENU_KEY, HUMAN_KEY))
                ],
                language=language,
                route="unknown_words",
            )

        try:
            whole, parts = await self._classify_parts(text)
        except NLUUnavailableError as exc:
            log.warning("NLU unavailable, answering with the menu: %s", exc)
            self.metrics.inc("ventanilla_nlu_errors_total")
            return EngineResult(
                replies=[answer(self._content, language, "nlu_unavailable")],
                language=language,
                route="nlu_unavailable",
            )

        intent_danger = danger_from_any(whole, parts, self._config.safety_threshold)
        if intent_danger is not None:
            return self._danger(intent_danger, language, whole)
        need = main_need(
            whole, parts, self._config.fallback_threshold, self._config.second_need_threshold
        )
        result = need.result
        if result.confidence < self._config.fallback_threshold:
            return EngineResult(
                replies=[fallback_reply(self._content, language, result)],
                language=language,
                intent=result.intent,
                confidence=result.confidence,
                route="fallback",
            )
        return self._answer_intent(
            result.intent,
            result.confidence,
            language,
            state,
            text=text,
            second=need.second,
            route="answer" if result is whole else "answer_part",
        )

    async def _classify_parts(self, text: str) -> tuple[IntentResult, list[IntentResult]]:
        """The whole text and each of its sentences, in parallel; its clauses too when
        the whole reads only as a greeting or is unclear (see handlers.needs)."""
        parts = sentences(text)
        found = await asyncio.gather(*(self._classifier.classify(t) for t in (text, *parts)))
        whole, results = found[0], list(found[1:])
        if needs_clauses(whole, self._config.fallback_threshold):
            more = [c for c in clauses(text) if c not in parts]
            results += await asyncio.gather(*(self._classifier.classify(c) for c in more))
        return whole, results

    def _menu(self, language: str) -> EngineResult:
        return EngineResult(
            [menu_reply(self._content, language)], language, intent=MENU_KEY, route="menu"
        )

    def _asks_for_menu(self, message: IncomingMessage, text: str) -> bool:
        if message.payload is not None:
            return topic_from_payload(message.payload) == MENU_KEY
        return self._commands.asks_for_menu(text)

    def _number_out_of_range(self, language: str, offered: list[str]) -> EngineResult:
        prompt = self._content.get(language, "number_out_of_range").text.rstrip()
        buttons = buttons_for(self._content, language, offered)
        reply = Reply(f"{prompt} (1-{len(buttons)})", buttons, "number_out_of_range")
        return EngineResult([reply], language, route="number_out_of_range")

    async def _hand_off(
        self, message: IncomingMessage, state: UserState, result: EngineResult
    ) -> None:
        assert result.handoff is not None
        gate = self.handoff_gate
        if not state.open_ticket and gate is not None and not await gate(message):
            # The answer (emergency numbers included) still goes out; no new ticket.
            log.warning("handoff refused by the cooldown (%s)", result.handoff.reason)
            self.metrics.inc("ventanilla_handoffs_refused_total", channel=message.channel)
            return
        try:
            reference, created = await self._states.open_handoff(message, result.handoff)
        except Exception:
            # The emergency answer is already in the replies; staff will see the log.
            log.exception("could not open a handoff ticket (%s)", result.handoff.reason)
            return
        state.open_ticket = reference
        language = result.language
        if result.handoff.reason.startswith(REQUESTED_TICKETS):
            state.with_human = True
        elif created and not result.route.startswith("safety"):
            # The bot goes on answering; the person should know a person will write too.
            result.replies.append(answer(self._content, language, "handoff_auto"))
        if result.handoff.reason == HUMAN_KEY:
            hours = self._config.office_hours
            key = "handoff_outside_hours" if hours and not hours.is_open() else "handoff_opened"
            result.replies.append(answer(self._content, language, key))
        label = self._content.get(language, "reference_code").text
        result.replies.append(Reply(f"{label} {reference}", content_key="reference_code"))
        if created and self.on_handoff is not None:
            event = HandoffEvent(
                reference, result.handoff.reason, result.handoff.urgency, message.channel
            )
            try:
                await self.on_handoff(event)
            except Exception:
                log.exception("could not alert staff about ticket %s", reference)

    def _from_payload(self, payload: str, language: str, state: UserState) -> EngineResult | None:
        if payload == LANGUAGE_PROMPT:
            buttons = tuple(
                Button(label=name, payload=f"{LANGUAGE_PREFIX}{code}")
                for code, name in self._commands.language_names.items()
                if code in self._config.languages
            )
            prompt = self._content.get(language, LANGUAGE_PROMPT).text
            return EngineResult([Reply(prompt, buttons, LANGUAGE_PROMPT)], language, route="button")
        if payload.startswith(LANGUAGE_PREFIX):
            chosen_language = payload[len(LANGUAGE_PREFIX) :]
            if chosen_language in self._config.languages:
                state.language, state.language_locked = chosen_language, True
                replies = [
                    answer(self._content, chosen_language, LANGUAGE_KEY, extra_options=(MENU_KEY,))
                ]
                return EngineResult(replies, chosen_language, intent=LANGUAGE_KEY, route="button")
            return None
        chosen = topic_from_payload(payload)
        if chosen and self._content.has(language, chosen):
            return self._answer_intent(chosen, 1.0, language, state, route="button")
        return None

    def _danger(self, danger: Danger, language: str, result: IntentResult | None) -> EngineResult:
        key = content_key_for(danger)
        return EngineResult(
            replies=[answer(self._content, language, key)],
            language=language,
            intent=key if result is None else result.intent,
            confidence=None if result is None else result.confidence,
            handoff=handoff_for(danger),
            route=f"safety_{danger.value}",
        )

    def _answer_intent(
        self,
        intent: str,
        confidence: float,
        language: str,
        state: UserState,
        route: str = "answer",
        text: str = "",
        second: str | None = None,
    ) -> EngineResult:
        handoff: HandoffRequest | None = None
        extra = (second,) if second else ()
        if discreet.switch(intent, state):
            replies = [answer(self._content, language, intent)]
        elif intent == LANGUAGE_KEY:
            language = (
                requested_language(text, language, self._config.languages) if text else (language)
            )
            state.language = language
            state.language_locked = True
            replies = [answer(self._content, language, LANGUAGE_KEY, extra_options=(MENU_KEY,))]
        elif intent == "trafficking_emergency":
            return self._danger(Danger.EMERGENCY, language, IntentResult(intent, confidence))
        elif intent in (SELF_HARM_KEY, CRISIS_KEY):
            # The crisis answer promises that a person reads the message: a tap on its
            # button opens the ticket too.
            return self._danger(Danger.CRISIS, language, IntentResult(intent, confidence))
        elif intent == MENU_KEY:
            replies = [menu_reply(self._content, language)]
        elif intent == HUMAN_KEY:
            handoff = HandoffRequest(reason=HUMAN_KEY, urgency=Urgency.NORMAL)
            replies = [answer(self._content, language, HUMAN_KEY)]
        elif intent.startswith(REFERRAL_PREFIX) and intent != REFERRAL_MENU:
            handoff = HandoffRequest(reason=intent, urgency=Urgency.NORMAL)
            replies = [answer(self._content, language, intent)]
        elif intent == CHILD_KEY and text and self._commands.says_child_is_alone(text):
            handoff = HandoffRequest(reason=CHILD_KEY, urgency=Urgency.HIGH)
            replies = [answer(self._content, language, intent)]
        elif intent == OUT_OF_SCOPE_KEY:
            replies = [answer(self._content, language, intent, (MENU_KEY, HUMAN_KEY))]
        elif intent in WITH_MENU:
            replies = self._with_menu(language, intent)
        elif self._content.has(language, intent):
            replies = [answer(self._content, language, intent, extra)]
        else:
            replies = [
                Reply(
                    text=self._content.get(language, "fallback").text,
                    buttons=buttons_for(self._content, language, [MENU_KEY]),
                )
            ]
        return EngineResult(
            replies=replies,
            language=language,
            intent=intent,
            confidence=confidence,
            handoff=handoff,
            route=route,
        )
