"""The main need of a message of several sentences, decided as a pure function."""

from __future__ import annotations

from handlers.needs import clauses, main_need, needs_clauses, sentences
from handlers.safety import Danger, danger_from_any, danger_from_intent, without_intent
from kernel.types import IntentResult


def result(intent: str, confidence: float, **others: float) -> IntentResult:
    ranking = tuple(sorted({intent: confidence, **others}.items(), key=lambda i: -i[1]))
    return IntentResult(intent, confidence, ranking)


def test_sentences_split_on_punctuation_and_drop_one_word_parts() -> None:
    text = "Hola. Buenas tardes! Me deportaron ayer. ¿Dónde saco el DUI?"
    assert sentences(text) == ["Buenas tardes", "Me deportaron ayer", "¿Dónde saco el DUI"]


def test_a_single_sentence_has_no_parts() -> None:
    assert sentences("me deportaron ayer y no se que hacer") == []
    assert clauses("me deportaron ayer y no se que hacer") == []


def test_clauses_also_split_at_commas() -> None:
    text = "hola buenas noches, me deportaron de estados unidos ayer y no sé qué hacer"
    need = "me deportaron de estados unidos ayer y no sé qué hacer"
    assert clauses(text) == ["hola buenas noches", need]


def test_many_sentences_are_capped() -> None:
    text = ". ".join(f"frase numero {n}" for n in range(10))
    parts = sentences(text)
    assert len(parts) == 6
    assert parts[-1].startswith("frase numero 5")


def test_a_greeting_before_the_need_does_not_decide() -> None:
    whole = result("greet", 0.88)
    parts = [result("greet", 0.97), result("returnee_reception", 0.81)]
    assert needs_clauses(whole, 0.45)
    assert main_need(whole, parts, 0.45, 0.6).result.intent == "returnee_reception"


def test_only_greetings_stay_a_greeting() -> None:
    whole = result("greet", 0.9)
    need = main_need(whole, [result("greet", 0.8), result("thank", 0.7)], 0.45, 0.6)
    assert need.result is whole
    assert need.second is None


def test_a_confident_whole_wins_and_another_topic_is_offered_second() -> None:
    whole = result("documents", 0.8)
    parts = [result("documents", 0.9), result("health_services", 0.75), result("greet", 0.99)]
    need = main_need(whole, parts, 0.45, 0.6)
    assert need.result is whole
    assert need.second == "health_services"


def test_a_weak_second_topic_is_not_offered() -> None:
    whole = result("documents", 0.8)
    need = main_need(whole, [result("health_services", 0.5)], 0.45, 0.6)
    assert need.second is None


def test_out_of_scope_whole_yields_to_a_clearer_topic_sentence() -> None:
    whole = result("out_of_scope", 0.5)
    parts = [result("out_of_scope", 0.9), result("asylum", 0.7)]
    assert main_need(whole, parts, 0.45, 0.6).result.intent == "asylum"


def test_out_of_scope_whole_stays_when_no_part_is_clearer() -> None:
    whole = result("out_of_scope", 0.8)
    need = main_need(whole, [result("asylum", 0.6)], 0.45, 0.6)
    assert need.result is whole


def test_self_harm_anywhere_in_the_ranking_is_a_crisis() -> None:
    assert danger_from_intent(result("psychosocial_support", 0.6, self_harm=0.25), 0.2) is (
        Danger.CRISIS
    )
    assert danger_from_intent(result("psychosocial_support", 0.9, self_harm=0.1), 0.2) is None


def test_danger_in_any_sentence_wins_and_emergency_beats_crisis() -> None:
    calm = result("greet", 0.9)
    assert danger_from_any(calm, [result("self_harm", 0.7)], 0.2) is Danger.CRISIS
    both = [result("self_harm", 0.7), result("trafficking_emergency", 0.5)]
    assert danger_from_any(calm, both, 0.2) is Danger.EMERGENCY
    assert danger_from_any(calm, [result("documents", 0.9)], 0.2) is None


def test_a_fragment_counts_as_danger_only_when_danger_is_its_best_reading() -> None:
    calm = result("asylum", 0.8)
    thin = result("asylum", 0.5, trafficking_emergency=0.3)
    assert danger_from_any(calm, [thin], 0.2) is None
    assert danger_from_any(thin, [], 0.2) is Danger.EMERGENCY


def test_chatter_after_a_greeting_does_not_make_it_out_of_scope() -> None:
    whole = result("greet", 0.7)
    parts = [result("greet", 0.9), result("out_of_scope", 0.8)]
    assert main_need(whole, parts, 0.45, 0.6).result is whole


def test_a_sentence_counts_as_danger_only_from_the_sentence_threshold() -> None:
    calm = result("documents", 0.95)
    assert danger_from_any(calm, [result("self_harm", 0.45)], 0.2, 0.5) is None
    assert danger_from_any(calm, [result("self_harm", 0.55)], 0.2, 0.5) is Danger.CRISIS
    # The whole text's own ranking keeps the (lower) safety threshold.
    assert danger_from_any(result("documents", 0.7, self_harm=0.3), [], 0.2, 0.5) is (Danger.CRISIS)


def test_a_calm_whole_never_overrules_a_clear_danger_sentence() -> None:
    for whole in ("greet", "documents", "out_of_scope"):
        part = result("trafficking_emergency", 0.9)
        assert danger_from_any(result(whole, 0.99), [part], 0.2) is Danger.EMERGENCY


def test_a_story_after_sure_thanks_is_offered_not_answered() -> None:
    whole = result("thank", 0.9)
    need = main_need(whole, [result("reintegration", 0.9)], 0.45, 0.6)
    assert need.result is whole
    assert need.second == "reintegration"


def test_a_question_after_unsure_thanks_is_answered() -> None:
    whole = result("thank", 0.5)
    need = main_need(whole, [result("documents", 0.9)], 0.45, 0.6)
    assert need.result.intent == "documents"


def test_news_raises_the_bar_for_trafficking_only() -> None:
    news = result("trafficking_emergency", 0.45)
    assert danger_from_any(news, [], 0.2) is Danger.EMERGENCY
    assert danger_from_any(news, [], 0.2, reported=0.5) is None
    assert danger_from_any(result("trafficking_emergency", 0.6), [], 0.2, reported=0.5) is (
        Danger.EMERGENCY
    )
    # Self-harm told beside the news keeps the safety threshold, in the whole and a sentence.
    sad = result("out_of_scope", 0.6, trafficking_emergency=0.3, self_harm=0.25)
    assert danger_from_any(sad, [], 0.2, reported=0.5) is Danger.CRISIS
    assert danger_from_any(news, [result("self_harm", 0.3)], 0.2, reported=0.5) is Danger.CRISIS


def test_a_reading_without_an_intent_puts_the_runner_up_first() -> None:
    news = result("trafficking_emergency", 0.45, out_of_scope=0.3, asylum=0.1)
    calm = without_intent(news, "trafficking_emergency")
    assert (calm.intent, calm.confidence) == ("out_of_scope", 0.3)
    assert calm.score("trafficking_emergency") == 0.0
    assert without_intent(calm, "trafficking_emergency") == calm
