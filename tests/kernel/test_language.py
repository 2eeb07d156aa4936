from __future__ import annotations

import pytest

from bot.settings import Settings
from bot.text_resources import load_text_resources
from kernel.language import LanguageDetector


@pytest.fixture(scope="module")
def detector(settings: Settings) -> LanguageDetector:
    return load_text_resources(
        settings.nlu.data_dir, settings.nlu.config.parent, settings.languages
    ).detector


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("me deportaron de mexico, donde consigo chamba", "es"),
        ("vos sabes donde saco el dui", "es"),
        ("I was deported from Mexico, where can I find a job?", "en"),
        ("how do I get a passport", "en"),
    ],
)
def test_spanish_and_english(detector: LanguageDetector, text: str, language: str) -> None:
    detection = detector.detect(text)
    assert detection.supported and detection.language == language


@pytest.mark.parametrize(
    "text",
    [
        "Bonjour, je voudrais savoir comment avoir un visa pour vous",
        "Olá, eu preciso de ajuda, não tenho documentos e estou com medo",
        "Hallo, ich brauche Hilfe, wo ist das Büro?",
    ],
)
def test_other_languages_are_recognised_as_unsupported(
    detector: LanguageDetector, text: str
) -> None:
    assert detector.detect(text).supported is False


@pytest.mark.parametrize("text", ["ok", "DUI", "👍", "911"])
def test_unclear_short_texts_keep_the_current_language(
    detector: LanguageDetector, text: str
) -> None:
    detection = detector.detect(text)
    assert detection.supported and detection.language is None
