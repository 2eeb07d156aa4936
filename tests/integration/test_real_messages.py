"""The messages that issue 13 found misread, through the real engine and a real model."""

from __future__ import annotations

import pytest

from bot.dispatcher import Dispatcher
from kernel.types import EngineResult, IncomingMessage

pytestmark = pytest.mark.rasa


async def _ask(engine: Dispatcher, text: str, user: str) -> EngineResult:
    return await engine.handle(IncomingMessage(channel="it", user_id=user, text=text))


@pytest.mark.parametrize(
    ("text", "intent", "language"),
    [
        (
            "hola buenas noches, me deportaron de estados unidos ayer y no sé qué hacer",
            "returnee_reception",
            "es",
        ),
        ("buenas tardes, me regresaron de mexico, que hago", "returnee_reception", "es"),
        ("me deportaron de estados unidos ayer y no se que hacer", "returnee_reception", "es"),
        ("Hello, I was deported yesterday, what do I do?", "returnee_reception", "en"),
        (
            "q onda, vos sabes si me puedo ir mojado pa los yunaites?",
            "irregular_migration_risks",
            "es",
        ),
    ],
)
async def test_real_messages_that_were_misread(
    real_engine: Dispatcher, text: str, intent: str, language: str
) -> None:
    result = await _ask(real_engine, text, f"misread-{hash(text)}")
    assert result.intent == intent
    assert result.language == language
    assert result.replies[-1].content_key == intent


@pytest.mark.parametrize(
    "text",
    [
        "a veces pienso que sería mejor no despertar",
        "me voy a colgar",
        "mejor me mato",
    ],
)
async def test_suicidal_messages_reach_a_crisis_line_and_a_person(
    real_engine: Dispatcher, text: str
) -> None:
    result = await _ask(real_engine, text, f"crisis-{hash(text)}")
    assert result.route == "safety_crisis"
    assert result.replies[0].content_key == "crisis_support"
    assert result.handoff is not None


async def test_after_a_child_alone_the_bot_keeps_answering(real_engine: Dispatcher) -> None:
    user = "child-alone"
    first = await _ask(real_engine, "my son is alone at the border", user)
    assert first.handoff is not None
    for text in ("menu", "3", "how do I get a passport for him?"):
        later = await _ask(real_engine, text, user)
        assert later.route != "to_inbox", text
