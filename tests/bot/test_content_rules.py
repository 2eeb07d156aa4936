"""`ventanilla content check` refuses what a person must never be shown."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.content import check_bundle, load_bundle
from bot.content_rules import SCREEN_CHARS, SCREEN_LINES, internal_notes, source_problems
from bot.settings import Settings
from kernel.types import ContentEntry


@pytest.mark.parametrize(
    "text",
    [
        "Horario: 8:00-16:00 (falta confirmar de qué zona horaria).",
        "Llamá al [número de la oficina].",
        "TODO: poner la dirección",
        "Teléfono: XXX",
        "Address {address}",
        "Hours to be confirmed",
    ],
)
def test_internal_notes_and_placeholders_are_found(text: str) -> None:
    assert internal_notes(text)


@pytest.mark.parametrize(
    "text",
    ["Hacé todo con calma: no pagués.", "Llamá al 911.", '«Borrar» y "notarios".'],
)
def test_ordinary_text_is_not_an_internal_note(text: str) -> None:
    assert internal_notes(text) == []


def _entry(**changes: object) -> ContentEntry:
    base: dict[str, object] = {
        "key": "k",
        "language": "es",
        "kind": "intent",
        "title": "T",
        "text": "x",
        "sources": ("gob.sv (2026-01-02): a fact",),
    }
    base.update(changes)
    return ContentEntry(**base)  # type: ignore[arg-type]


def test_only_engine_messages_may_carry_fields_the_code_fills() -> None:
    from bot.content_rules import text_problems

    assert text_problems(_entry(kind="system", text="Listo: {topics}.")) == []
    assert text_problems(_entry(kind="intent", text="Llamá al {phone}."))
    assert text_problems(_entry(kind="system", text="Llamá al [número]."))


def test_every_source_line_is_dated_or_says_undated() -> None:
    assert source_problems(_entry()) == []
    assert source_problems(_entry(sources=("gob.mx/comar (undated, official)",))) == [
        "no source line carries a date"
    ]
    assert source_problems(_entry(sources=("a page", "gob.sv (2025)"))) == [
        "source line 1 has no date (a year) and does not say 'undated'"
    ]
    assert source_problems(_entry(sources=())) == ["source is missing"]


def _copy(settings: Settings, tmp_path: Path) -> Path:
    copy = tmp_path / "content"
    shutil.copytree(settings.content_dir, copy)
    return copy


def _edit(copy: Path, language: str, key: str, **changes: object) -> None:
    path = copy / language / f"{key}.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_check_fails_on_notes_long_texts_undated_sources_and_no_place_to_confirm(
    settings: Settings, tmp_path: Path
) -> None:
    copy = _copy(settings, tmp_path)
    _edit(copy, "es", "rights", text="Horario 6:00-18:00 (falta confirmar de qué zona horaria).")
    _edit(copy, "en", "asylum", text="word " * (SCREEN_CHARS // 5 + 1))
    _edit(copy, "en", "documents", text="line\n" * (SCREEN_LINES + 1))
    _edit(copy, "es", "health_services", source=["a page with no date"])
    _edit(copy, "es", "reintegration", needs_review=True, confirm_at="")
    _edit(copy, "en", "reintegration", needs_review=True, confirm_at="")
    report = check_bundle(load_bundle(copy, settings.languages), ())
    joined = "\n".join(report.errors)
    assert "es/rights.yml: text contains an internal note or placeholder: falta confirmar" in joined
    long_text = len("word " * (SCREEN_CHARS // 5 + 1)) - 1
    assert f"en/asylum.yml: text has {long_text} characters" in joined
    assert f"en/documents.yml: text has {SCREEN_LINES + 1} lines" in joined
    assert "es/health_services.yml: source line 1 has no date" in joined
    assert "es/reintegration.yml: needs_review is set but confirm_at" in joined
    assert not report.ok


def test_the_shipped_content_passes_the_rules(settings: Settings) -> None:
    report = check_bundle(load_bundle(settings.content_dir, settings.languages), ())
    assert report.errors == []
