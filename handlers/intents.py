"""The intent → answer table: what a known intent, a button or the menu gets.

Each function returns a Decision: the replies, the person's new state and, for
tickets, a handoff request on the result. The person's state is never changed
in place; a new one is returned.
"""

from __future__ import annotations

from dataclasses import replace

from handlers import discreet
from handlers.answers import (
    REFERRAL_MENU,
    REFERRAL_PREFIX,
    answer,
    buttons_for,
    topic_from_payload,
)
from handlers.decision import Decision
from handlers.language import requested_language
from handlers.menu import MENU_KEY, menu_reply
from handlers.rules import Rules
from handlers.safety import (
    CRISIS_KEY,
    EMERGENCY_KEY,
    SELF_HARM_KEY,
    Danger,
    content_key_for,
    handoff_for,
)
from kernel.types import (
    Button,
    EngineResult,
    HandoffRequest,
    IntentResult,
    Reply,
    Route,
    Urgency,
    UserState,
)

HUMAN_KEY = "talk_to_human"
LANGUAGE_KEY = "change_language"
LANGUAGE_PROMPT = "language_prompt"
LANGUAGE_PREFIX = "lang:"
CHILD_KEY = "child_protection"
OUT_OF_SCOPE_KEY = "out_of_scope"
# Intents whose answer ends with the menu so the person always has a next step.
WITH_MENU = frozenset({"greet", "thank"})
SAFETY_ROUTES = {Danger.EMERGENCY: Route.SAFETY_EMERGENCY, Danger.CRISIS: Route.SAFETY_CRISIS}


def reply(rules: Rules, state: UserState, language: str, key: str, route: Route) -> Decision:
    return Decision(
        EngineResult([answer(rules.content, language, key)], language, route=route), state
    )


def with_menu(rules: Rules, language: str, key: str) -> list[Reply]:
    return [answer(rules.content, language, key, extra_options=(MENU_KEY,))]


def menu(rules: Rules, state: UserState, language: str) -> Decision:
    result = EngineResult(
        [menu_reply(rules.content, language)], language, intent=MENU_KEY, route=Route.MENU
    )
    return Decision(result, state)


def danger(
    rules: Rules, state: UserState, found: Danger, language: str, result: IntentResult | None
) -> Decision:
    key = content_key_for(found)
    decided = EngineResult(
        replies=[answer(rules.content, language, key)],
        language=language,
        intent=key if result is None else result.intent,
        confidence=None if result is None else result.confidence,
        handoff=handoff_for(found),
        route=SAFETY_ROUTES[found],
    )
    return Decision(decided, state)


def answer_intent(
    rules: Rules,
    state: UserState,
    intent: str,
    confidence: float,
    language: str,
    route: Route = Route.ANSWER,
    text: str = "",
    second: str | None = None,
) -> Decision:
    if intent == EMERGENCY_KEY:
        return danger(rules, state, Danger.EMERGENCY, language, IntentResult(intent, confidence))
    if intent in (SELF_HARM_KEY, CRISIS_KEY):
        # The crisis answer promises that a person reads the message: a tap on its
        # button opens the ticket too.
        return danger(rules, state, Danger.CRISIS, language, IntentResult(intent, confidence))
    handoff: HandoffRequest | None = None
    content = rules.content
    if intent in discreet.SWITCHES:
        state = discreet.switched(intent, state)
        replies = [answer(content, language, intent)]
    elif intent == LANGUAGE_KEY:
        if text:
            language = requested_language(text, language, rules.config.languages)
        state = replace(state, language=language, language_locked=True)
        replies = with_menu(rules, language, LANGUAGE_KEY)
    elif intent == MENU_KEY:
        replies = [menu_reply(content, language)]
    elif intent == HUMAN_KEY or (intent.startswith(REFERRAL_PREFIX) and intent != REFERRAL_MENU):
        handoff = HandoffRequest(reason=intent, urgency=Urgency.NORMAL)
        replies = [answer(content, language, intent)]
    elif intent == CHILD_KEY and text and rules.commands.says_child_is_alone(text):
        handoff = HandoffRequest(reason=CHILD_KEY, urgency=Urgency.HIGH)
        replies = [answer(content, language, intent)]
    elif intent == OUT_OF_SCOPE_KEY:
        replies = [answer(content, language, intent, (MENU_KEY, HUMAN_KEY))]
    elif intent in WITH_MENU:
        replies = with_menu(rules, language, intent)
    elif content.has(language, intent):
        replies = [answer(content, language, intent, (second,) if second else ())]
    else:
        text_only = content.get(language, "fallback").text
        replies = [Reply(text_only, buttons_for(content, language, [MENU_KEY]))]
    decided = EngineResult(replies, language, intent, confidence, handoff, route)
    return Decision(decided, state)


def from_payload(rules: Rules, state: UserState, payload: str, language: str) -> Decision | None:
    """A button's hidden value; None when it names nothing this bot knows."""
    if payload == LANGUAGE_PROMPT:
        buttons = tuple(
            Button(label=name, payload=f"{LANGUAGE_PREFIX}{code}")
            for code, name in rules.commands.language_names.items()
            if code in rules.config.languages
        )
        prompt = rules.content.get(language, LANGUAGE_PROMPT).text
        result = EngineResult(
            [Reply(prompt, buttons, LANGUAGE_PROMPT)], language, route=Route.BUTTON
        )
        return Decision(result, state)
    if payload.startswith(LANGUAGE_PREFIX):
        chosen = payload[len(LANGUAGE_PREFIX) :]
        if chosen not in rules.config.languages:
            return None
        state = replace(state, language=chosen, language_locked=True)
        result = EngineResult(
            with_menu(rules, chosen, LANGUAGE_KEY), chosen, intent=LANGUAGE_KEY, route=Route.BUTTON
        )
        return Decision(result, state)
    topic = topic_from_payload(payload)
    if topic and rules.content.has(language, topic):
        return answer_intent(rules, state, topic, 1.0, language, route=Route.BUTTON)
    return None
