"""Real messages through the engine: several sentences, self-harm read by the model,
automatic tickets that never silence the bot, and clear answers to stray numbers."""

from __future__ import annotations

from bot.content import FileContentStore
from kernel.types import Urgency
from tests.conftest import Conversation, ScriptedClassifier


async def test_a_greeting_before_the_need_does_not_decide_the_answer(
    conversation: Conversation, classifier: ScriptedClassifier
) -> None:
    text = "hola buenas noches, me deportaron de estados unidos ayer y no sé qué hacer"
    classifier.say(text, "greet", 0.88)
    classifier.say("hola buenas noches", "greet", 0.97)
    classifier.say(
        "me deportaron de estados unidos ayer y no sé qué hacer", "returnee_reception", 0.8
    )
    result = await conversation.say(text)
    assert result.intent == "returnee_reception"
    assert result.route == "answer_part"
    assert result.replies[-1].content_key == "returnee_reception"


async def test_two_clear_needs_answer_the_main_one_and_offer_the_second(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    text = "Perdí mi DUI en el camino. Y mi niña tiene fiebre, dónde la atienden?"
    classifier.say(text, "documents", 0.7)
    classifier.say("Perdí mi DUI en el camino", "documents", 0.9)
    classifier.say("Y mi niña tiene fiebre, dónde la atienden", "health_services", 0.8)
    result = await conversation.say(text)
    assert result.replies[-1].content_key == "documents"
    payloads = [b.payload for b in result.replies[-1].buttons]
    assert "topic:health_services" in payloads


async def test_self_harm_in_the_ranking_gets_the_crisis_answer_and_a_person(
    conversation: Conversation, classifier: ScriptedClassifier
) -> None:
    text = "a veces pienso que seria mejor no despertar"
    classifier.say(text, "psychosocial_support", 0.6, self_harm=0.3)
    result = await conversation.say(text)
    assert result.route == "safety_crisis"
    assert result.replies[0].content_key == "crisis_support"
    assert result.handoff is not None and result.handoff.urgency is Urgency.CRITICAL


async def test_danger_in_one_sentence_wins_over_a_calm_whole(
    conversation: Conversation, classifier: ScriptedClassifier
) -> None:
    text = "Hola, buenas. Nos agarraron en la terminal y piden dinero a la familia"
    classifier.say(text, "greet", 0.6)
    classifier.say(
        "Nos agarraron en la terminal y piden dinero a la familia", "trafficking_emergency", 0.7
    )
    result = await conversation.say(text)
    assert result.route == "safety_emergency"
    assert result.replies[0].content_key == "trafficking_emergency"


async def test_an_automatic_ticket_never_silences_the_bot(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    classifier.say("my son is alone at the border", "child_protection")
    first = await conversation.say("my son is alone at the border")
    assert first.handoff is not None and first.handoff.urgency is Urgency.HIGH
    assert "handoff_auto" in [r.content_key for r in first.replies]
    menu = await conversation.say("menu")
    assert menu.route != "to_inbox"
    assert menu.replies[-1].content_key == "menu"
    number = await conversation.say("3")
    assert number.route == "number"
    button = await conversation.say(payload="topic:menu")
    assert button.replies[-1].content_key == "menu"
    classifier.say("how do I get a passport for him", "documents")
    question = await conversation.say("how do I get a passport for him")
    assert question.replies[-1].content_key == "documents"


async def test_after_asking_for_a_person_menu_returns_to_the_bot(
    conversation: Conversation, classifier: ScriptedClassifier
) -> None:
    classifier.say("quiero hablar con una persona", "talk_to_human")
    await conversation.say("quiero hablar con una persona")
    classifier.say("necesito el pasaporte", "documents")
    waiting = await conversation.say("necesito el pasaporte")
    assert waiting.route == "to_inbox"
    back = await conversation.say("menú")
    assert back.replies[-1].content_key == "menu"
    again = await conversation.say("necesito el pasaporte")
    assert again.replies[-1].content_key == "documents"


async def test_a_number_outside_the_options_says_which_are_valid(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    classifier.say("hola", "greet")
    greeting = await conversation.say("hola")
    shown = greeting.replies[-1].buttons
    result = await conversation.say("9")
    assert result.route == "number_out_of_range"
    reply = result.replies[-1]
    assert reply.text.startswith(content.get("es", "number_out_of_range").text.strip())
    assert reply.text.endswith(f"(1-{len(shown)})")
    assert reply.buttons == shown


async def test_keyboard_mashing_is_not_called_emoji(conversation: Conversation) -> None:
    result = await conversation.say("jkdslq wpeorx zmvnqo")
    assert result.route == "unknown_words"
    assert result.replies[-1].content_key == "unknown_words"
    assert "topic:talk_to_human" in [b.payload for b in result.replies[-1].buttons]


async def test_out_of_scope_offers_the_menu_and_a_person(
    conversation: Conversation, classifier: ScriptedClassifier
) -> None:
    classifier.say("quien gano el partido", "out_of_scope")
    result = await conversation.say("quien gano el partido")
    payloads = [b.payload for b in result.replies[-1].buttons]
    assert "topic:menu" in payloads and "topic:talk_to_human" in payloads


async def test_passive_and_indirect_suicidal_messages_get_the_crisis_answer(
    engine, classifier: ScriptedClassifier
) -> None:  # type: ignore[no-untyped-def]
    # The model is scripted to miss them: the phrase lists alone must catch these.
    messages = [
        "a veces pienso que sería mejor no despertar",
        "me voy a colgar",
        "mejor me mato",
        "sometimes I wish I could just never wake up",
        # Means at hand, next to a calm sentence: the lists catch what a model may read low.
        "No encuentro trabajo. Ya compré una soga, nomás quería contárselo a alguien.",
        "things have been bad. i bought a rope yesterday",
    ]
    for number, text in enumerate(messages):
        result = await Conversation(engine, user_id=f"p{number}").say(text)
        assert result.route == "safety_crisis", text
        assert result.replies[0].content_key == "crisis_support"
        assert result.handoff is not None


async def test_the_crisis_button_opens_a_ticket_as_its_answer_promises(
    conversation: Conversation,
) -> None:
    result = await conversation.say(payload="topic:crisis_support")
    assert result.route == "safety_crisis"
    assert result.handoff is not None and result.handoff.urgency is Urgency.CRITICAL
