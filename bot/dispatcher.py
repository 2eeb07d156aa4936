"""The conversation pipeline: one IncomingMessage in, one EngineResult out.

Deciding lives in `handlers/` as pure steps (handlers/routing.py); this is the
only place that does the I/O around them, in an order that is the product's
safety argument: duplicates dropped first, then the person's state, then the
decision (danger before anything else can divert the message), then its effects
(tickets, erasure, staff alerts), then the exchange is recorded. Every storage
step degrades on its own, so a database failure never leaves a person unanswered.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from bot.metrics import Metrics
from bot.office_hours import OfficeHours
from handlers import routing
from handlers.answers import answer
from handlers.decision import CloseTicket, Decision, ForgetPerson, Opening
from handlers.needs import clauses, needs_clauses, sentences
from handlers.rules import EngineConfig, Rules
from handlers.safety import content_key_for
from handlers.turn_end import finished, ticket_opened
from kernel.commands import Commands
from kernel.language import LanguageDetector
from kernel.text_guard import Vocabulary
from kernel.types import (
    ContentStore,
    EngineResult,
    HandoffEvent,
    HandoffGate,
    IncomingMessage,
    IntentClassifier,
    IntentResult,
    NLUUnavailableError,
    OnHandoff,
    Route,
    RouteHook,
    StateStore,
    UserState,
)

log = logging.getLogger(__name__)

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
        office_hours: OfficeHours | None = None,
    ) -> None:
        self._rules = Rules(config, content, commands, detector, vocabulary)
        self._classifier = classifier
        self._content = content
        self._states = states
        self._on_handoff = on_handoff
        self._handoff_gate = handoff_gate
        # Alert subscriptions (bot/broadcast/flow.py).
        self._alerts = alerts
        self._office_hours = office_hours
        self.metrics = metrics or Metrics()
        for name, text in METRIC_HELP.items():
            self.metrics.describe(name, text)

    async def handle(self, message: IncomingMessage) -> EngineResult:
        started = time.perf_counter()
        try:
            result = await self._handle(message)
        except Exception:
            # A bug must not leave a person without an answer: apologise with the menu.
            log.exception("engine failure; answering with the menu")
            self.metrics.inc("ventanilla_engine_errors_total")
            result = self._engine_error(message)
        self.metrics.inc("ventanilla_messages_total", channel=message.channel, route=result.route)
        self.metrics.observe(
            "ventanilla_message_seconds", time.perf_counter() - started, channel=message.channel
        )
        return result

    def _engine_error(self, message: IncomingMessage) -> EngineResult:
        config = self._rules.config
        language = message.language_hint or config.default_language
        if language not in config.languages:
            language = config.default_language
        danger = self._rules.danger_scan(message.text) if message.text else None
        key = content_key_for(danger) if danger is not None else "nlu_unavailable"
        return EngineResult(
            [answer(self._content, language, key)], language, route=Route.ENGINE_ERROR
        )

    async def _handle(self, message: IncomingMessage) -> EngineResult:
        if message.message_id and not await self._first_time_seen(message):
            return EngineResult(replies=[], language="", route=Route.DUPLICATE, duplicate=True)
        await self._refresh_content()
        state = await self._load_state(message)
        decision = await self._decide(message, state)
        if ForgetPerson() in decision.effects:
            await self._states.forget(message.channel, message.user_id)
            return decision.result  # nothing about this person may be written again
        for effect in decision.effects:
            if isinstance(effect, CloseTicket):
                await self._states.close_handoff(effect.reference, effect.outcome)
        if decision.result.handoff is not None:
            decision = await self._hand_off(message, decision)
        decision = finished(self._content, decision)
        try:
            await self._states.record(message, decision.state, decision.result)
        except Exception:
            # The person still gets the answer; staff see the failure in the logs.
            log.exception("could not store the exchange (route %s)", decision.result.route)
            self.metrics.inc("ventanilla_dropped_writes_total")
        result = decision.result
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

    async def _first_time_seen(self, message: IncomingMessage) -> bool:
        assert message.message_id is not None
        try:
            return await self._states.first_time_seen(message.channel, message.message_id)
        except Exception:
            log.exception("deduplication unavailable; answering anyway")
            self.metrics.inc("ventanilla_store_errors_total", operation="dedupe")
            return True

    async def _refresh_content(self) -> None:
        try:
            await self._content.refresh()
        except Exception:
            # Keep serving what is in memory: a database hiccup must not silence the bot.
            log.exception("content refresh failed; serving the last published answers")
            self.metrics.inc("ventanilla_store_errors_total", operation="content")

    async def _load_state(self, message: IncomingMessage) -> UserState:
        try:
            return await self._states.load(message.channel, message.user_id)
        except Exception:
            log.exception("user state unavailable; answering without it")
            self.metrics.inc("ventanilla_store_errors_total", operation="load")
            return UserState()

    async def _decide(self, message: IncomingMessage, state: UserState) -> Decision:
        """The routing steps, with the alert hook and the classifier between them."""
        start = routing.opening(self._rules, message, state)
        if isinstance(start, Decision):
            return start
        if self._alerts is not None:
            # The hook still changes the state it is given (bot/broadcast/flow.py).
            hooked = replace(start, state=replace(start.state))
            subscribed = await self._alerts.route(
                message, hooked.state, start.language, message.text
            )
            if subscribed is not None:
                return hooked.close(Decision(subscribed, hooked.state))
        decided = routing.before_nlu(self._rules, message, start)
        if decided is None:
            decided = await self._from_classifier(message.text, start)
        return start.close(decided)

    async def _from_classifier(self, text: str, start: Opening) -> Decision:
        try:
            whole, parts = await self._classify_parts(text)
        except NLUUnavailableError as exc:
            log.warning("NLU unavailable, answering with the menu: %s", exc)
            self.metrics.inc("ventanilla_nlu_errors_total")
            return routing.nlu_unavailable(self._rules, start)
        return routing.from_nlu(self._rules, start, text, whole, parts)

    async def _classify_parts(self, text: str) -> tuple[IntentResult, list[IntentResult]]:
        """The whole text and each of its sentences in one request; its clauses too when
        the whole reads only as a greeting or is unclear (see handlers.needs)."""
        parts = sentences(text)
        found = await self._classifier.classify_many([text, *parts])
        whole, results = found[0], found[1:]
        if needs_clauses(whole, self._rules.config.fallback_threshold):
            more = [c for c in clauses(text) if c not in parts]
            if more:
                results += await self._classifier.classify_many(more)
        return whole, results

    async def _hand_off(self, message: IncomingMessage, decision: Decision) -> Decision:
        request, state = decision.result.handoff, decision.state
        assert request is not None
        gate = self._handoff_gate
        if not state.open_ticket and gate is not None and not await gate(message):
            # The answer (emergency numbers included) still goes out; no new ticket.
            log.warning("handoff refused by the cooldown (%s)", request.reason)
            self.metrics.inc("ventanilla_handoffs_refused_total", channel=message.channel)
            return decision
        try:
            reference, created = await self._states.open_handoff(message, request)
        except Exception:
            # The emergency answer is already in the replies; staff will see the log.
            log.exception("could not open a handoff ticket (%s)", request.reason)
            return decision
        office_open = self._office_hours is None or self._office_hours.is_open()
        decision = ticket_opened(self._content, decision, reference, created, office_open)
        if created and self._on_handoff is not None:
            event = HandoffEvent(reference, request.reason, request.urgency, message.channel)
            try:
                await self._on_handoff(event)
            except Exception:
                log.exception("could not alert staff about ticket %s", reference)
        return decision
