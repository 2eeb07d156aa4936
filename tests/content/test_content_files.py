"""The curated content itself: complete, in parity, short enough, honest about what needs review."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from bot.content import MAX_TEXT_CHARS, check_bundle, load_bundle
from bot.settings import Settings
from nlu.training_data import intents_of, load_examples

CONTRACT = Path(__file__).resolve().parents[2] / "nlu" / "data"


def _intents(settings: Settings) -> list[str]:
    return intents_of(load_examples(settings.nlu.data_dir))


def test_every_intent_has_twenty_contract_names(settings: Settings) -> None:
    assert len(_intents(settings)) == 20


def test_content_check_passes(settings: Settings) -> None:
    report = check_bundle(load_bundle(settings.content_dir, settings.languages), _intents(settings))
    assert report.errors == []
    assert report.needs_review, "facts staff must confirm are flagged"


def test_check_catches_missing_key_long_text_and_bad_option(
    settings: Settings, tmp_path: Path
) -> None:
    copy = tmp_path / "content"
    shutil.copytree(settings.content_dir, copy)
    (copy / "en" / "asylum.yml").unlink()
    rights = yaml.safe_load((copy / "es" / "rights.yml").read_text())
    rights["text"] = "a" * (MAX_TEXT_CHARS + 1)
    rights["options"] = ["no_such_topic"]
    (copy / "es" / "rights.yml").write_text(yaml.safe_dump(rights, allow_unicode=True))
    report = check_bundle(load_bundle(copy, settings.languages), _intents(settings))
    joined = "\n".join(report.errors)
    assert "en: no answer for intent 'asylum'" in joined
    assert "exists in only one language" in joined
    assert f"max {MAX_TEXT_CHARS}" in joined
    assert "'no_such_topic' is not a content key" in joined


def test_outdated_bodies_are_never_recommended(settings: Settings) -> None:
    bundle = load_bundle(settings.content_dir, settings.languages)
    for language, entries in bundle.entries.items():
        for entry in entries.values():
            # CONNA and ISNA were replaced by CONAPINA (Ley Crecer Juntos, 2023).
            if re.search(r"\b(CONNA|ISNA)\b", entry.text):
                assert "CONAPINA" in entry.text, f"{language}/{entry.key}"


def test_every_phone_number_in_answers_is_listed_in_its_sources(settings: Settings) -> None:
    bundle = load_bundle(settings.content_dir, settings.languages)
    number = re.compile(r"(?<![\d$.,])(\+?\d[\d -]{1,14}\d)(?![\d%])")
    for entries in bundle.entries.values():
        for entry in entries.values():
            sources = " ".join(entry.sources) + " " + entry.review_notes
            cited = {re.sub(r"\D", "", n) for n in number.findall(sources)}
            for found in number.findall(entry.text):
                digits = re.sub(r"\D", "", found)
                if len(digits) < 3 or (len(digits) == 4 and digits.startswith("20")):
                    continue  # years and tiny counts are not phone numbers
                assert digits in cited, f"{entry.language}/{entry.key}: {found} has no source"


def test_privacy_notice_states_the_configured_retention(settings: Settings) -> None:
    bundle = load_bundle(settings.content_dir, settings.languages)
    for language in settings.languages:
        notice = bundle.entries[language]["privacy_notice"].text
        assert f"{settings.retention_days} " in notice, language
        assert "borrar mis datos" in notice or "delete my data" in notice
