"""The curated danger lists of content/, read by the real matcher."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import FileContentStore
from handlers.safety import Danger, DangerMatcher
from kernel.types import DangerPhrases

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def matcher() -> DangerMatcher:
    content = FileContentStore.from_dir(ROOT / "content", ["es", "en"], "es")
    return DangerMatcher(content.danger_phrases())


@pytest.mark.parametrize(
    ("text", "danger"),
    [
        ("mi hermana quedó sola en el desierto con este calor", Danger.EMERGENCY),
        ("estamos encerrados en un trailer rumbo a houston", Danger.EMERGENCY),
        ("quieren 3 mil para soltarlo hoy mismo", Danger.EMERGENCY),
        ("my boy is alone in the desert near Sasabe", Danger.EMERGENCY),
        ("we are locked in a trailer, running out of air", Danger.EMERGENCY),
        ("me quiero morir, ya no puedo", Danger.CRISIS),
        ("el guía se fue y estamos sin agua en el monte", Danger.EMERGENCY),
        ("the driver left and we're out of water", Danger.EMERGENCY),
    ],
)
def test_present_danger_is_caught(matcher: DangerMatcher, text: str, danger: Danger) -> None:
    assert matcher.scan(text) is danger


@pytest.mark.parametrize(
    "text",
    [
        "me quiero morir de la vergüenza con lo que dije en la fiesta",
        "lol I wanna die of embarrassment",
        "hace muchos años me secuestraron en el camino, hoy trabajo aquí tranquilo",
        "my dad was kidnapped years ago, he is fine now and lives with us",
    ],
)
def test_idioms_and_dangers_long_over_are_left_to_the_model(
    matcher: DangerMatcher, text: str
) -> None:
    assert matcher.scan(text) is None


def test_an_idiom_does_not_hide_a_danger_phrase_beside_it() -> None:
    phrases = DangerPhrases(
        emergency=("me tienen encerrada",),
        crisis=("me quiero morir",),
        figurative=("me quiero morir de la verguenza",),
    )
    matcher = DangerMatcher(phrases)
    assert matcher.scan("me quiero morir de la vergüenza") is None
    assert matcher.scan("me quiero morir de la vergüenza, me tienen encerrada") is Danger.EMERGENCY


@pytest.mark.parametrize(
    ("text", "reported"),
    [
        ("vi en las noticias que rescataron a unas personas en un tráiler", True),
        ("según la prensa cayó una banda de tratantes", True),
        ("I read that smugglers lock people in stash houses", True),
        ("me tienen encerrada y no me dejan salir", False),
        ("my cousin says they keep him in a warehouse", False),
    ],
)
def test_news_and_hearsay_are_marked(matcher: DangerMatcher, text: str, reported: bool) -> None:
    assert matcher.reported(text) is reported


def test_a_danger_phrase_beside_the_news_still_alarms(matcher: DangerMatcher) -> None:
    text = "vi en las noticias lo de la red de trata, a mí también me tienen encerrada"
    assert matcher.reported(text)
    assert matcher.scan(text) is Danger.EMERGENCY
