"""Routing decisions as pure functions: no database, no event loop, no classifier."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.content import FileContentStore
from bot.engine import engine_config
from bot.settings import Settings
from bot.text_resources import load_text_resources
from handlers import intents, routing
from handlers.decision import CloseTicket, Decision, ForgetPerson, Opening
from handlers.rules import Rules
from kernel.types import IncomingMessage, IntentResult, MessageKind, Route, UserState


@pytest.fixture(scope="module")
def rules(settings: Settings, content: FileContentStore) -> Rules:
    text = load_text_resources(
        settings.nlu.data_dir, settings.nlu.config.parent, settings.languages
    )
    return Rules(engine_config(settings), content, text.commands, text.detector, text.vocabulary)


def message(text: str = "", **fields: object) -> IncomingMessage:
    return IncomingMessage(channel="t", user_id="u", text=text, **fields)  # type: ignore[arg-type]


def decide(rules: Rules, msg: IncomingMessage, state: UserState) -> Decision | None:
    """The steps before the classifier, as the dispatcher runs them."""
    start = routing.opening(rules, msg, state)
    if isinstance(start, Decision):
        return start
    decided = routing.before_nlu(rules, msg, start)
    return None if decided is None else start.close(decided)


@pytest.mark.parametrize(
    ("msg", "state", "route"),
    [
        (message("hola", is_private_chat=False), UserState(), Route.GROUP_CHAT),
        (message(kind=MessageKind.LOCATION), UserState(), Route.LOCATION),
        (message(kind=MessageKind.CONTACT), UserState(), Route.CONTACT),
        (message(kind=MessageKind.VOICE), UserState(), Route.MEDIA),
        (message(kind=MessageKind.STICKER), UserState(), Route.MEDIA),
        (message("   "), UserState(), Route.EMPTY),
        (message("menu"), UserState(), Route.MENU),
        (message("%%% ### !!!"), UserState(), Route.NO_WORDS),
        (message("x" * 5000), UserState(), Route.TOO_LONG),
        (message("borrar mis datos"), UserState(), Route.DELETE_CONFIRM),
        (message("no"), UserState(pending_action="confirm_delete"), Route.DELETE_CANCELLED),
        (message("2"), UserState(last_options=["asylum", "documents"]), Route.NUMBER),
        (message("9"), UserState(last_options=["asylum", "documents"]), Route.NUMBER_OUT_OF_RANGE),
        (message("hola", payload="topic:documents"), UserState(), Route.BUTTON),
        (message("hola"), UserState(open_ticket="T1", with_human=True), Route.TO_INBOX),
        (message("menu"), UserState(open_ticket="T1", with_human=True), Route.MENU),
    ],
)
def test_answered_before_the_classifier(
    rules: Rules, msg: IncomingMessage, state: UserState, route: Route
) -> None:
    decision = decide(rules, msg, state)
    assert decision is not None and decision.result.route is route


def test_a_question_goes_on_to_the_classifier(rules: Rules) -> None:
    assert decide(rules, message("necesito sacar mi pasaporte"), UserState()) is None


def test_danger_phrase_wins_over_an_open_ticket_with_a_human(
    rules: Rules, content: FileContentStore
) -> None:
    danger = content.danger_phrases().emergency[0]
    decision = decide(rules, message(danger), UserState(open_ticket="T1", with_human=True))
    assert decision is not None and decision.result.route is Route.SAFETY_EMERGENCY
    assert decision.result.handoff is not None


def test_menu_returns_a_person_with_a_human_to_the_bot(rules: Rules) -> None:
    state = UserState(open_ticket="T1", with_human=True)
    decision = decide(rules, message("menu"), state)
    assert decision is not None and not decision.state.with_human
    assert state.with_human  # the input is never changed in place


def test_confirmed_deletion_is_an_effect_not_an_action(rules: Rules) -> None:
    decision = decide(rules, message("si"), UserState(pending_action="confirm_delete"))
    assert decision is not None and decision.result.route is Route.DELETED
    assert decision.effects == (ForgetPerson(),)


def test_a_long_silent_ticket_is_closed_and_the_answer_goes_on(rules: Rules) -> None:
    state = UserState(open_ticket="T1", with_human=True, ticket_idle_seconds=10**9)
    start = routing.opening(rules, message("necesito mi pasaporte"), state)
    assert isinstance(start, Opening)
    assert start.effects == (CloseTicket("T1", "returned_to_bot"),)
    assert [r.content_key for r in start.replies] == ["handoff_returned"]
    assert start.state.open_ticket is None


@pytest.mark.parametrize(
    ("whole", "parts", "route", "intent"),
    [
        (IntentResult("documents", 0.9, (("documents", 0.9),)), [], Route.ANSWER, "documents"),
        (
            IntentResult("asylum", 0.6, (("asylum", 0.6), ("trafficking_emergency", 0.5))),
            [],
            Route.SAFETY_EMERGENCY,
            "asylum",
        ),
        (IntentResult("asylum", 0.1, (("asylum", 0.1),)), [], Route.FALLBACK, "asylum"),
        (
            IntentResult("greet", 0.9, (("greet", 0.9),)),
            [IntentResult("greet", 0.95), IntentResult("returnee_reception", 0.9)],
            Route.ANSWER_PART,
            "returnee_reception",
        ),
    ],
)
def test_after_the_classifier(
    rules: Rules, whole: IntentResult, parts: list[IntentResult], route: Route, intent: str
) -> None:
    start = Opening(UserState(), "es")
    decision = routing.from_nlu(rules, start, "texto", whole, parts)
    assert decision.result.route is route and decision.result.intent == intent


NEWS = "vi en las noticias que rescataron a unas muchachas de una red, ¿ustedes trabajan en eso?"


@pytest.mark.parametrize(
    ("trafficking", "route", "intent"),
    [
        (0.45, Route.FALLBACK, "out_of_scope"),
        (0.7, Route.SAFETY_EMERGENCY, "trafficking_emergency"),
    ],
)
def test_news_needs_a_surer_trafficking_reading(
    rules: Rules, trafficking: float, route: Route, intent: str
) -> None:
    """A weak trafficking reading of news is neither an alarm nor the topic answered."""
    ranking = (("trafficking_emergency", trafficking), ("out_of_scope", 0.3))
    whole = IntentResult("trafficking_emergency", trafficking, ranking)
    decision = routing.from_nlu(rules, Opening(UserState(), "es"), NEWS, whole, [])
    assert (decision.result.route, decision.result.intent) == (route, intent)
    assert (decision.result.handoff is not None) is (route is Route.SAFETY_EMERGENCY)


def test_a_language_change_is_a_new_locked_state(rules: Rules) -> None:
    state = UserState(language="es")
    decision = intents.answer_intent(rules, state, "change_language", 1.0, "es", text="english")
    assert (decision.state.language, decision.state.language_locked) == ("en", True)
    assert decision.result.language == "en"
    assert state == replace(UserState(), language="es")


def test_asking_for_a_person_requests_a_ticket(rules: Rules) -> None:
    decision = intents.answer_intent(rules, UserState(), "talk_to_human", 0.9, "es")
    assert decision.result.handoff is not None
    assert decision.result.handoff.reason == "talk_to_human"
