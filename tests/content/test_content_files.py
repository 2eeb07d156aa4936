"""The curated content itself: complete, in parity, short enough, honest about what needs review."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from bot.content import ANSWERED_BY, MAX_TEXT_CHARS, check_bundle, load_bundle
from bot.settings import Settings
from nlu.training_data import intents_of, load_examples

CONTRACT = Path(__file__).resolve().parents[2] / "nlu" / "data"


def _intents(settings: Settings) -> list[str]:
    return intents_of(load_examples(settings.nlu.data_dir))


# Intent contract v2 (shared/intents.md): every intent has an answer in both languages.
CONTRACT_V2 = (
    "greet", "goodbye", "thank", "menu", "rights", "asylum", "voluntary_return",
    "returnee_reception", "reintegration", "documents", "health_services",
    "psychosocial_support", "irregular_migration_risks", "regular_migration",
    "child_protection", "trafficking_emergency", "office_locations", "talk_to_human",
    "change_language", "out_of_scope", "missing_person", "scam_check", "self_harm",
)  # fmt: skip


def test_every_trained_intent_is_a_contract_intent(settings: Settings) -> None:
    assert set(_intents(settings)) <= set(CONTRACT_V2)


def test_every_contract_intent_has_an_answer(settings: Settings) -> None:
    bundle = load_bundle(settings.content_dir, settings.languages)
    report = check_bundle(bundle, CONTRACT_V2)
    assert report.errors == []
    for language in settings.languages:
        assert bundle.entries[language]["missing_person"].kind == "intent"
        assert bundle.entries[language]["scam_check"].kind == "intent"
        assert "self_harm" not in bundle.entries[language]  # answered by crisis_support
        assert ANSWERED_BY["self_harm"] == "crisis_support"


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


def test_every_key_is_reachable_from_the_menu_or_an_intent(settings: Settings) -> None:
    """A topic nobody can reach by a button or by asking is a topic nobody reads."""
    bundle = load_bundle(settings.content_dir, settings.languages)
    for language, entries in bundle.entries.items():
        reached = {k for k, e in entries.items() if e.kind == "intent"} | {"crisis_support"}
        frontier = list(reached)
        while frontier:
            for option in entries[frontier.pop()].options:
                if option not in reached:
                    reached.add(option)
                    frontier.append(option)
        topics = {k for k, e in entries.items() if e.kind == "topic"}
        assert topics, "sub-topics exist"
        assert topics <= reached, f"{language}: unreachable {sorted(topics - reached)}"


def test_spanish_and_english_carry_the_same_numbers(settings: Settings) -> None:
    """Phone numbers, prices and dates are the facts most easily lost in translation."""
    bundle = load_bundle(settings.content_dir, settings.languages)
    digits = re.compile(r"\d[\d.,-]*\d|\d")
    for key, es in bundle.entries["es"].items():
        en = bundle.entries["en"][key]
        norm = {re.sub(r"\D", "", d) for d in digits.findall(es.text)}
        assert norm == {re.sub(r"\D", "", d) for d in digits.findall(en.text)}, key


OUTDATED_CLAIMS = (
    # (pattern, why it is wrong) -- facts.md v2, re-checked 2026-12-01
    (r"bloque[oó] en parte|blocked it in part", "asylum ban: CBP One ended, restrictions stayed"),
    (r"CBP One[^.]*(pedí|pedir|sacá|request|book)", "CBP One appointments ended 2025-01-20"),
    (r"no tenemos confirmados programas de trabajo|no confirmed temporary work", "MTPS runs one"),
    (r"30 días (después|despues|desde)|within 30 days", "COMAR: 30 working days"),
    (r"falta confirmar", "internal note shown to users"),
    (r"Registramos tu pedido de cita|registered your appointment", "no appointment promised"),
    (r"Movilidad Segura[^.]*(aplicá|pedí|abiert)|Safe Mobility[^.]*(apply|open)", "closed 2025"),
)


def test_no_outdated_claim_remains(settings: Settings) -> None:
    bundle = load_bundle(settings.content_dir, settings.languages)
    for language, entries in bundle.entries.items():
        for entry in entries.values():
            for pattern, why in OUTDATED_CLAIMS:
                assert not re.search(pattern, entry.text, re.IGNORECASE), (
                    f"{language}/{entry.key}: {why}"
                )
    for language in settings.languages:
        offices = bundle.entries[language]["office_locations"].text
        # The La Unión and La Hachadura windows are history (2016), not current offices.
        assert "2016" in offices


def test_fixed_facts_are_stated(settings: Settings) -> None:
    bundle = load_bundle(settings.content_dir, settings.languages)
    es = bundle.entries["es"]
    assert "30 días hábiles" in es["asylum"].text
    assert "explicar por escrito" in es["asylum_mexico"].text
    assert "CBP Home" in es["us_policy"].text and "20 de enero de 2025" in es["us_policy"].text
    assert "Movilidad Segura cerraron" in es["us_policy"].text
    assert "Programa de Migración Laboral" in es["work_abroad"].text
    assert "work_abroad" in es["regular_migration"].options
    assert "delito federal" in es["us_policy"].text


def test_every_button_a_text_mentions_is_one_of_its_buttons(settings: Settings) -> None:
    bundle = load_bundle(settings.content_dir, settings.languages)
    mention = {"es": re.compile(r"tocá «([^»]+)»"), "en": re.compile(r'tap "([^"]+)"')}
    for language, entries in bundle.entries.items():
        for entry in entries.values():
            titles = {entries[o].title for o in entry.options if o in entries}
            for label in mention[language].findall(entry.text):
                assert label in titles, f"{language}/{entry.key}: no button {label!r}"
