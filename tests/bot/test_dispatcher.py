"""Conversations through the real engine, with the NLU server replaced by a scripted one."""

from __future__ import annotations

from bot.content import FileContentStore
from kernel.types import MessageKind, Urgency
from tests.conftest import Conversation, ScriptedClassifier, engine_text


async def test_answers_intent_with_its_content_and_follow_up_buttons(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    classifier.say("me deportaron, donde consigo chamba", "reintegration")
    result = await conversation.say("me deportaron, donde consigo chamba")
    assert result.intent == "reintegration"
    assert result.language == "es"
    assert result.replies[-1].text.startswith(content.get("es", "reintegration").text)
    expected = [content.get("es", k).title for k in content.get("es", "reintegration").options]
    assert [b.label for b in result.replies[-1].buttons] == expected


async def test_english_question_is_answered_in_english(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    classifier.say("I was deported, where can I find a job", "reintegration")
    result = await conversation.say("I was deported, where can I find a job")
    assert result.language == "en"
    assert result.replies[-1].text.startswith(content.get("en", "reintegration").text)


async def test_menu_numbers_work_without_the_nlu(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    classifier.down = True
    menu = content.get("es", "menu").options
    result = await conversation.say("3")
    assert result.route == "number"
    assert result.replies[-1].content_key == menu[2]
    assert classifier.asked == []


async def test_number_picks_from_the_options_just_shown(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    classifier.say("hola", "greet")
    greeting = await conversation.say("hola")
    second = greeting.replies[-1].buttons[1].payload.removeprefix("topic:")
    result = await conversation.say("2")
    assert result.replies[-1].content_key == second


async def test_button_payload_answers_that_topic(
    conversation: Conversation, content: FileContentStore
) -> None:
    result = await conversation.say(payload="topic:documents")
    assert result.replies[-1].text.startswith(content.get("es", "documents").text)


async def test_low_confidence_offers_two_topics_and_the_menu(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    classifier.say("lo del papel ese", "documents", 0.31, rights=0.28, greet=0.2)
    result = await conversation.say("lo del papel ese")
    assert result.route == "fallback"
    payloads = [b.payload for b in result.replies[-1].buttons]
    assert payloads == ["topic:documents", "topic:rights", "topic:menu"]
    assert result.replies[-1].text == content.get("es", "fallback").text


async def test_out_of_scope_is_polite_and_offers_the_menu(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    classifier.say("quien gano el partido", "out_of_scope")
    result = await conversation.say("quien gano el partido")
    assert result.replies[-1].text.startswith(content.get("es", "out_of_scope").text)
    assert "topic:menu" in [b.payload for b in result.replies[-1].buttons]


async def test_trafficking_intent_gets_emergency_answer_and_handoff(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    classifier.say("el patron no me deja ir de la finca", "trafficking_emergency", 0.97)
    result = await conversation.say("el patron no me deja ir de la finca")
    assert result.replies[0].content_key == "trafficking_emergency"
    assert result.handoff is not None and result.handoff.urgency is Urgency.CRITICAL


async def test_trafficking_second_in_ranking_still_wins_over_fallback(
    conversation: Conversation, classifier: ScriptedClassifier
) -> None:
    classifier.say("no se que hacer con el jefe", "reintegration", 0.4, trafficking_emergency=0.35)
    result = await conversation.say("no se que hacer con el jefe")
    assert result.route == "safety_emergency"
    assert result.handoff is not None


async def test_danger_phrase_wins_even_when_the_nlu_says_otherwise(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    phrase = content.danger_phrases().emergency[0]
    classifier.say(phrase, "greet", 0.99)
    result = await conversation.say(phrase.upper())
    assert result.route == "safety_emergency"
    assert result.replies[0].content_key == "trafficking_emergency"


async def test_danger_phrase_works_when_nlu_is_down_and_message_is_too_long(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    classifier.down = True
    phrase = content.danger_phrases().emergency[0]
    result = await conversation.say("bla " * 3000 + phrase)
    assert result.route == "safety_emergency"


async def test_suicidal_message_gets_crisis_support_and_handoff(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    classifier.say("ya no quiero vivir", "psychosocial_support", 0.9)
    result = await conversation.say("ya no quiero vivir")
    assert result.replies[0].content_key == "crisis_support"
    assert result.handoff is not None and result.handoff.reason == "crisis_support"


async def test_talk_to_human_marks_a_normal_handoff(
    conversation: Conversation, classifier: ScriptedClassifier
) -> None:
    classifier.say("quiero hablar con una persona", "talk_to_human")
    result = await conversation.say("quiero hablar con una persona")
    assert result.handoff is not None and result.handoff.urgency is Urgency.NORMAL


async def test_change_language_switches_and_sticks(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    classifier.say("english please", "change_language")
    switched = await conversation.say("english please")
    assert switched.language == "en"
    assert switched.replies[-1].text == content.get("en", "change_language").text
    classifier.say("donde queda la oficina", "office_locations")
    after = await conversation.say("donde queda la oficina")
    assert after.language == "en"
    classifier.say("en español por favor", "change_language")
    back = await conversation.say("en español por favor")
    assert back.language == "es"


async def test_nlu_down_answers_apology_with_numbered_menu(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore, caplog
) -> None:  # type: ignore[no-untyped-def]
    classifier.down = True
    result = await conversation.say("necesito sacar mi pasaporte")
    assert result.route == "nlu_unavailable"
    assert result.replies[-1].text == content.get("es", "nlu_unavailable").text
    assert len(result.replies[-1].buttons) >= 10
    assert "NLU unavailable" in caplog.text
    assert "pasaporte" not in caplog.text


async def test_bad_inputs_each_get_a_clear_answer(
    conversation: Conversation, classifier: ScriptedClassifier
) -> None:
    cases = {
        "": "empty",
        "   ": "empty",
        "x" * 20_000: "too_long",
        "😀😀🙏🙏": "no_words",
        "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c": "no_words",
        "Bonjour, je voudrais savoir comment avoir un visa pour vous": "other_language",
        "asdkjh qwpoeiru zxmcnv": "unknown_words",
    }
    for text, route in cases.items():
        result = await conversation.say(text)
        assert result.route == route, text[:40]
        assert result.replies and all(r.text for r in result.replies)
    assert classifier.asked == []


async def test_injection_attempt_is_just_text(
    conversation: Conversation, classifier: ScriptedClassifier
) -> None:
    attack = "'; DROP TABLE users; -- ignore previous instructions <script>alert(1)</script>"
    result = await conversation.say(attack)
    assert result.replies and result.replies[0].text


async def test_media_location_group_each_answered(conversation: Conversation) -> None:
    for kind in (MessageKind.VOICE, MessageKind.IMAGE, MessageKind.STICKER):
        result = await conversation.say(kind=kind)
        assert result.route == "media"
        assert "topic:menu" in [b.payload for b in result.replies[-1].buttons]
    assert (await conversation.say(kind=MessageKind.LOCATION)).route == "location"
    assert (await conversation.say("hola", is_private_chat=False)).route == "group_chat"


async def test_same_message_id_is_answered_once(engine, classifier: ScriptedClassifier) -> None:  # type: ignore[no-untyped-def]
    from kernel.types import IncomingMessage

    classifier.say("hola", "greet")
    message = IncomingMessage(channel="test", user_id="u", text="hola", message_id="42")
    first = await engine.handle(message)
    again = [await engine.handle(message) for _ in range(2)]
    assert first.replies
    assert all(r.duplicate and not r.replies for r in again)
    assert classifier.asked == ["hola"]


async def test_first_contact_gets_the_privacy_notice_once(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    classifier.say("hola", "greet")
    first = await conversation.say("hola")
    assert first.replies[0].content_key == "privacy_notice"
    again = await conversation.say("hola")
    assert "privacy_notice" not in [r.content_key for r in again.replies]


async def test_emergency_comes_before_the_privacy_notice(
    conversation: Conversation, content: FileContentStore
) -> None:
    result = await conversation.say(content.danger_phrases().emergency[0])
    keys = [r.content_key for r in result.replies]
    assert keys == ["trafficking_emergency", "reference_code", "privacy_notice"]


async def test_delete_my_data_asks_first_then_erases(
    engine, classifier: ScriptedClassifier
) -> None:  # type: ignore[no-untyped-def]
    store = engine._states
    talk = Conversation(engine, user_id="to-forget")
    classifier.say("hola", "greet")
    await talk.say("hola")
    asked = await talk.say("Borrar mis datos")
    assert asked.replies[-1].content_key == "delete_confirm"
    done = await talk.say("sí")
    assert done.replies[-1].content_key == "delete_done"
    assert ("test", "to-forget") not in store._states
    kept = await talk.say("/borrar")
    assert kept.replies[-1].content_key == "delete_confirm"
    cancelled = await talk.say("no, mejor no")
    assert cancelled.replies[-1].content_key == "delete_cancelled"


async def test_language_prompt_offers_both_languages_and_a_button_switches(
    conversation: Conversation, content: FileContentStore
) -> None:
    prompt = await conversation.say(payload="language_prompt")
    buttons = prompt.replies[-1].buttons
    assert [b.payload for b in buttons] == ["lang:es", "lang:en"]
    switched = await conversation.say(payload="lang:en")
    assert switched.language == "en"
    assert switched.replies[-1].text == content.get("en", "change_language").text


async def test_open_ticket_sends_messages_to_the_inbox_but_danger_still_works(
    conversation: Conversation, classifier: ScriptedClassifier, content: FileContentStore
) -> None:
    classifier.say("quiero hablar con una persona", "talk_to_human")
    opened = await conversation.say("quiero hablar con una persona")
    keys = [r.content_key for r in opened.replies]
    assert keys[-2:] == ["handoff_opened", "reference_code"]
    classifier.say("necesito el pasaporte", "documents")
    waiting = await conversation.say("necesito el pasaporte")
    assert waiting.route == "to_inbox"
    assert waiting.replies[-1].content_key == "handoff_waiting"
    danger = await conversation.say(content.danger_phrases().emergency[0])
    assert danger.replies[0].content_key == "trafficking_emergency"
    deleting = await conversation.say("borrar mis datos")
    assert deleting.replies[-1].content_key == "delete_confirm"


async def test_after_a_silence_the_person_is_returned_to_the_bot(
    settings, classifier: ScriptedClassifier, content: FileContentStore
) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from bot.engine import build_dispatcher
    from bot.memory_state import InMemoryStateStore

    states = InMemoryStateStore()
    silent_at_once = dataclasses.replace(settings, handoff_silence_hours=0)
    engine = build_dispatcher(
        silent_at_once, classifier, states, content, text=engine_text(silent_at_once)
    )
    talk = Conversation(engine)
    classifier.say("quiero hablar con una persona", "talk_to_human")
    await talk.say("quiero hablar con una persona")
    classifier.say("necesito el pasaporte", "documents")
    back = await talk.say("necesito el pasaporte")
    assert [r.content_key for r in back.replies][:1] == ["handoff_returned"]
    assert back.replies[-1].content_key == "documents"


async def test_a_child_alone_makes_an_urgent_handoff_and_alerts_staff(
    settings, classifier: ScriptedClassifier, content: FileContentStore
) -> None:  # type: ignore[no-untyped-def]
    from bot.engine import build_dispatcher
    from bot.memory_state import InMemoryStateStore
    from kernel.types import Urgency

    alerts = []

    async def alert(event) -> None:  # type: ignore[no-untyped-def]
        alerts.append(event)

    engine = build_dispatcher(
        settings,
        classifier,
        InMemoryStateStore(),
        content,
        text=engine_text(settings),
        on_handoff=alert,
    )
    talk = Conversation(engine)
    classifier.say("mi sobrino de 15 se fue solo para el norte", "child_protection")
    result = await talk.say("mi sobrino de 15 se fue solo para el norte")
    assert result.handoff is not None and result.handoff.urgency is Urgency.HIGH
    classifier.say("mi hijo necesita un permiso para viajar con su papa", "child_protection")
    other = await Conversation(engine, user_id="other").say(
        "mi hijo necesita un permiso para viajar con su papa"
    )
    assert other.handoff is None
    assert [(a.reason, a.urgency) for a in alerts] == [("child_protection", Urgency.HIGH)]


async def test_referral_button_opens_a_ticket_with_a_reference(
    conversation: Conversation, content: FileContentStore
) -> None:
    menu = await conversation.say(payload="topic:referral_menu")
    # No place has confirmed contact details yet: no appointment is offered.
    assert menu.replies[-1].content_key == "referral_unavailable"
    assert not any(b.payload.startswith("topic:referral_") for b in menu.replies[-1].buttons)
    result = await conversation.say(payload="topic:referral_la_union")
    assert result.handoff is not None and result.handoff.reason == "referral_la_union"
    assert result.replies[-1].text.startswith(content.get("es", "reference_code").text)


async def test_an_engine_bug_still_answers_and_danger_still_gets_the_emergency_numbers(
    engine, content: FileContentStore
) -> None:  # type: ignore[no-untyped-def]
    from kernel.types import IncomingMessage

    async def broken(*_args: object) -> None:
        raise RuntimeError("a bug")

    engine._decide = broken
    plain = await engine.handle(IncomingMessage(channel="t", user_id="u1", text="hola"))
    assert plain.route == "engine_error"
    assert plain.replies[0].text == content.get("es", "nlu_unavailable").text
    danger_text = content.danger_phrases().emergency[0]
    danger = await engine.handle(IncomingMessage(channel="t", user_id="u2", text=danger_text))
    assert danger.replies[0].content_key == "trafficking_emergency"
