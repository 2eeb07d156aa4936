"""Retraining progress and publishing-gate errors reach each staff member in their language.

Both are written outside the page that shows them (a background job; the content rules
shared with `ventanilla content check`), so they travel as English `Message`s and are
translated where they are shown. The gate runs on a real SQLite database."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.admin import retrain_progress as said
from bot.admin.gate import run_gate
from bot.admin.i18n import using
from bot.admin.retrain_progress import Progress, stored
from bot.content_rules import SCREEN_CHARS
from bot.db import engine as db
from bot.db.content import ContentRepository
from bot.engine import engine_over
from bot.settings import Settings
from kernel.translatable import Message
from nlu import train
from tests.conftest import ScriptedClassifier, engine_text


def _job() -> Progress:
    progress = Progress([Message(said.QUEUED)])
    progress.add(Message(said.TRAINING, train=12345, held=1372))
    progress.add(Message(train.STEP, step="Starting to train component 'DIET'", seconds=7))
    progress.add(Message(said.KEPT_OLD))
    return progress


def test_live_progress_in_the_readers_language() -> None:
    progress = _job()
    with using("es"):
        spanish = progress.shown()
    with using("en"):
        english = progress.shown()
    assert spanish == [
        "en cola",
        "entrenando con 12.345 ejemplos, 1.372 reservados para evaluar",
        "  Starting to train component 'DIET' (7 s)",  # Rasa's words stay Rasa's
        "el modelo nuevo es peor: el anterior sigue en servicio",
    ]
    assert english[:2] == ["queued", "training on 12,345 examples, 1,372 held out"]


def test_a_stored_job_is_read_in_the_readers_language_too() -> None:
    saved = _job().dumps()
    assert "en cola" not in saved  # stored as templates and fields, not in one language
    with using("es"):
        assert stored(saved)[-1] == "el modelo nuevo es peor: el anterior sigue en servicio"
    with using("en"):
        assert stored(saved)[-1] == "the new model is worse: the old one keeps serving"
    # Rows stored before progress kept templates are plain text, shown as they are.
    assert stored("queued\ntraining on 10 examples") == ["queued", "training on 10 examples"]
    assert stored("") == [] and stored(None) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_gate_errors_in_the_staff_members_language(
    settings: Settings, database: AsyncEngine
) -> None:
    repository = ContentRepository(db.sessions(database))
    await repository.import_files(settings.content_dir, settings.languages, "test")
    published = await repository.published("documents", "es")
    assert published is not None
    entry = yaml.safe_load(published.body)
    entry["text"] = "Demasiado largo. " * (SCREEN_CHARS // 10)
    entry["title"] = ""
    entry["options"] = ["no_such_key"]
    draft = await repository.save_draft(
        "documents", "es", yaml.safe_dump(entry, allow_unicode=True), "ana@example.org"
    )
    length = len(entry["text"].strip())
    engines = engine_over(settings, ScriptedClassifier(), engine_text(settings))
    for locale, expected in (
        ("es", f"el texto tiene {length:,} caracteres".replace(",", ".")),
        ("en", f"text has {length:,} characters"),
    ):
        with using(locale):
            report = await run_gate(settings, repository, engines, draft)
        assert any(error.startswith(expected) for error in report.errors), report.errors
    with using("es"):
        report = await run_gate(settings, repository, engines, draft)
    assert "el título necesita de 1 a" in " ".join(report.errors)
    assert "la opción 'no_such_key' no es una clave de contenido" in report.errors
