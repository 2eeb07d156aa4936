"""Routing as pure steps: which answer a message gets, decided without any I/O.

The dispatcher runs the steps in order and does the I/O between them: `opening`
(safety first, then language and the person's open ticket, then what is not
text), the alert-subscription hook, `before_nlu` (buttons, the person's own-data
commands, menus and numbers, text guards), the classifier, then `from_nlu`.
Danger is checked on the raw text before anything else can divert the message.
"""

from __future__ import annotations

from dataclasses import replace

from handlers import intents
from handlers.answers import answer, buttons_for, topic_from_payload
from handlers.decision import CloseTicket, Decision, ForgetPerson, Opening
from handlers.fallback import fallback_reply
from handlers.intents import HUMAN_KEY, reply, with_menu
from handlers.menu import MENU_KEY, choice_from_number, menu_options, out_of_range_number
from handlers.needs import main_need
from handlers.rules import Rules
from handlers.safety import EMERGENCY_KEY, REPORTED_THRESHOLD, danger_from_any, without_intent
from kernel.text_guard import TextVerdict, judge_text
from kernel.types import (
    EngineResult,
    IncomingMessage,
    IntentResult,
    MessageKind,
    Reply,
    Route,
    UserState,
)

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
NOT_TEXT = {MessageKind.LOCATION: "location_received", MessageKind.CONTACT: "contact_received"}
NOT_TEXT_ROUTES = {MessageKind.LOCATION: Route.LOCATION, MessageKind.CONTACT: Route.CONTACT}


def language_of(rules: Rules, state: UserState, message: IncomingMessage) -> str:
    languages = rules.config.languages
    hint = message.language_hint if message.language_hint in languages else None
    return state.language or hint or rules.config.default_language


def _own_data(rules: Rules, state: UserState, text: str) -> bool:
    """Requests about the person's own data, which the inbox never swallows."""
    commands = rules.commands
    return bool(text) and (
        state.pending_action is not None
        or commands.asks_to_delete(text)
        or commands.opts_out(text)
        or commands.opts_in(text)
        or commands.discreet_switch(text) is not None
    )


def _asks_for_menu(rules: Rules, message: IncomingMessage) -> bool:
    if message.payload is not None:
        return topic_from_payload(message.payload) == MENU_KEY
    return rules.commands.asks_for_menu(message.text)


def opening(rules: Rules, message: IncomingMessage, state: UserState) -> Decision | Opening:
    """Safety, language and the person's ticket: the steps no other rule may pre-empt."""
    language = language_of(rules, state, message)
    if not message.is_private_chat:
        return reply(rules, state, language, "group_chat", Route.GROUP_CHAT)
    text = message.text
    found = rules.danger_scan(text) if text else None
    detection = rules.detector.detect(text) if text else None
    detected = detection.language if detection is not None and detection.supported else None
    if detected and not state.language_locked:
        state, language = replace(state, language=detected), detected
    if found is not None:
        return intents.danger(rules, state, found, language, None)
    ticket = _ticket_step(rules, message, state, language)
    if isinstance(ticket, Decision):
        return ticket
    state, prefix, effects = ticket
    if message.kind in NOT_TEXT:
        decided = reply(
            rules, state, language, NOT_TEXT[message.kind], NOT_TEXT_ROUTES[message.kind]
        )
        return Opening(state, language, detection, prefix, effects).close(decided)
    if message.kind in MEDIA_KINDS:
        result = EngineResult(
            with_menu(rules, language, "unsupported_media"), language, route=Route.MEDIA
        )
        return Opening(state, language, detection, prefix, effects).close(Decision(result, state))
    return Opening(state, language, detection, prefix, effects)


def _ticket_step(
    rules: Rules, message: IncomingMessage, state: UserState, language: str
) -> Decision | tuple[UserState, tuple[Reply, ...], tuple[CloseTicket, ...]]:
    """An open ticket: back to the bot after long silence; to the inbox while with a human."""
    own_data = _own_data(rules, state, message.text)
    if not state.open_ticket:
        return replace(state, with_human=False), (), ()
    if state.ticket_idle_seconds >= rules.config.handoff_silence_seconds and not own_data:
        close = CloseTicket(state.open_ticket, "returned_to_bot")
        back = answer(rules.content, language, "handoff_returned")
        return replace(state, open_ticket=None, with_human=False), (back,), (close,)
    if state.with_human and not own_data:
        if not _asks_for_menu(rules, message):
            return reply(rules, state, language, "handoff_waiting", Route.TO_INBOX)
        # "menu" always returns the person to the bot
        return intents.menu(rules, replace(state, with_human=False), language)
    return state, (), ()


def _own_data_commands(
    rules: Rules, message: IncomingMessage, state: UserState, language: str
) -> Decision | None:
    """Delete my data (asked, then confirmed), alerts opt-out/in, discreet mode."""
    text, commands = message.text, rules.commands
    if state.pending_action == "confirm_delete":
        state = replace(state, pending_action=None)
        if commands.confirms(text):
            decided = reply(rules, state, language, "delete_done", Route.DELETED)
            return replace(decided, effects=(ForgetPerson(),))
        return reply(rules, state, language, "delete_cancelled", Route.DELETE_CANCELLED)
    if commands.opts_out(text):
        state = replace(state, proactive_opt_out=True)
        return reply(rules, state, language, "opt_out_done", Route.OPT_OUT)
    if commands.opts_in(text):
        state = replace(state, proactive_opt_out=False)
        return reply(rules, state, language, "opt_in_done", Route.OPT_IN)
    if commands.asks_to_delete(text):
        state = replace(state, pending_action="confirm_delete")
        return reply(rules, state, language, "delete_confirm", Route.DELETE_CONFIRM)
    switch = commands.discreet_switch(text)
    if switch is not None:
        return intents.answer_intent(rules, state, switch, 1.0, language, route=Route.DISCREET)
    return None


def _number_out_of_range(
    rules: Rules, state: UserState, language: str, offered: list[str]
) -> Decision:
    prompt = rules.content.get(language, "number_out_of_range").text.rstrip()
    buttons = buttons_for(rules.content, language, offered)
    out = Reply(f"{prompt} (1-{len(buttons)})", buttons, "number_out_of_range")
    return Decision(EngineResult([out], language, route=Route.NUMBER_OUT_OF_RANGE), state)


def before_nlu(rules: Rules, message: IncomingMessage, start: Opening) -> Decision | None:
    """Everything answered without the classifier; None sends the text to it."""
    state, language, text = start.state, start.language, message.text
    if message.payload:
        by_payload = intents.from_payload(rules, state, message.payload, language)
        if by_payload is not None:
            return by_payload
    verdict = judge_text(text, rules.config.max_message_chars)
    if verdict is TextVerdict.EMPTY:
        return reply(rules, state, language, "empty_message", Route.EMPTY)
    own = _own_data_commands(rules, message, state, language)
    if own is not None:
        return own
    if verdict is TextVerdict.TOO_LONG:
        return reply(rules, state, language, "message_too_long", Route.TOO_LONG)
    if rules.commands.asks_for_menu(text):
        return intents.menu(rules, state, language)
    offered = state.last_options or menu_options(rules.content, language)
    chosen = choice_from_number(text, offered)
    if chosen is not None:
        return intents.answer_intent(rules, state, chosen, 1.0, language, route=Route.NUMBER)
    if out_of_range_number(text, offered):
        return _number_out_of_range(rules, state, language, offered)
    return _text_guards(rules, state, language, text, verdict, start)


def _text_guards(
    rules: Rules, state: UserState, language: str, text: str, verdict: TextVerdict, start: Opening
) -> Decision | None:
    if verdict is TextVerdict.NO_WORDS:
        result = EngineResult(
            with_menu(rules, language, "not_understood"), language, route=Route.NO_WORDS
        )
        return Decision(result, state)
    if start.detection is not None and not start.detection.supported:
        return reply(rules, state, language, "unsupported_language", Route.OTHER_LANGUAGE)
    if rules.vocabulary.known_share(text) < rules.config.min_known_word_share:
        unknown = answer(rules.content, language, "unknown_words", (MENU_KEY, HUMAN_KEY))
        return Decision(EngineResult([unknown], language, route=Route.UNKNOWN_WORDS), state)
    return None


def nlu_unavailable(rules: Rules, start: Opening) -> Decision:
    unavailable = answer(rules.content, start.language, "nlu_unavailable")
    return Decision(
        EngineResult([unavailable], start.language, route=Route.NLU_UNAVAILABLE), start.state
    )


def from_nlu(
    rules: Rules, start: Opening, text: str, whole: IntentResult, parts: list[IntentResult]
) -> Decision:
    """Danger anywhere wins; then the person's main need, or the fallback when unsure."""
    config, state, language = rules.config, start.state, start.language
    reported = REPORTED_THRESHOLD if rules.danger_scan.reported(text) else 0.0
    found = danger_from_any(whole, parts, config.safety_threshold, reported=reported)
    if found is not None:
        return intents.danger(rules, state, found, language, whole)
    if reported:
        whole = without_intent(whole, EMERGENCY_KEY)
        parts = [without_intent(p, EMERGENCY_KEY) for p in parts]
    need = main_need(whole, parts, config.fallback_threshold, config.second_need_threshold)
    result = need.result
    if result.confidence < config.fallback_threshold:
        unsure = fallback_reply(rules.content, language, result)
        decided = EngineResult(
            [unsure], language, result.intent, result.confidence, route=Route.FALLBACK
        )
        return Decision(decided, state)
    route = Route.ANSWER if result is whole else Route.ANSWER_PART
    return intents.answer_intent(
        rules, state, result.intent, result.confidence, language, route, text, need.second
    )
