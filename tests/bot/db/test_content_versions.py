"""Content versions on SQLite and PostgreSQL.

Import/export round trip, publish, revert and live reload in every worker.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import engine as db
from bot.db.content import ContentRepository, DbContentStore, dump_entry, unified_diff
from bot.settings import Settings


def _same_tree(a: Path, b: Path) -> bool:
    for language in ("es", "en"):
        names = sorted(p.name for p in (a / language).glob("*.yml"))
        assert names == sorted(p.name for p in (b / language).glob("*.yml"))
        _, mismatch, errors = filecmp.cmpfiles(a / language, b / language, names, shallow=False)
        assert not mismatch and not errors, mismatch
    return True


async def test_import_export_round_trip_changes_nothing(
    settings: Settings, database: AsyncEngine, tmp_path: Path
) -> None:
    repository = ContentRepository(db.sessions(database))
    created = await repository.import_files(settings.content_dir, settings.languages, "test")
    assert created == 2 * len(list((settings.content_dir / "es").glob("*.yml")))
    assert await repository.import_files(settings.content_dir, settings.languages, "test") == 0
    out = tmp_path / "exported"
    await repository.export_files(out)
    assert _same_tree(settings.content_dir, out)


async def test_edit_publish_revert_is_served_at_once(
    settings: Settings, database: AsyncEngine, tmp_path: Path
) -> None:
    repository = ContentRepository(db.sessions(database))
    await repository.import_files(settings.content_dir, settings.languages, "test")
    worker_a = DbContentStore(repository, "es", settings.languages)
    worker_b = DbContentStore(repository, "es", settings.languages)
    await worker_a.refresh(force=True)
    await worker_b.refresh(force=True)
    original = worker_a.get("es", "documents").text

    current = await repository.published("documents", "es")
    assert current is not None
    data = current.data()
    data["text"] = "Texto nuevo de prueba para documentos."
    draft = await repository.save_draft("documents", "es", dump_entry(data), "editor@example.org")
    await worker_b.refresh(force=True)
    assert worker_b.get("es", "documents").text == original  # a draft is not served
    await repository.publish(draft.id)
    await worker_b.refresh(force=True)
    assert worker_b.get("es", "documents").text == "Texto nuevo de prueba para documentos."

    history = await repository.history("documents", "es")
    assert [v.status for v in history][:2] == ["published", "superseded"]
    diff = unified_diff(history[1].body, history[0].body)
    assert diff[0] == "@@ text" and "+Texto nuevo de prueba para documentos." in diff
    assert not any(line.startswith("@@ source") for line in diff)  # unchanged fields stay out
    await repository.revert(history[1].id, "editor@example.org")
    await worker_a.refresh(force=True)
    assert worker_a.get("es", "documents").text == original

    # Export after an edit writes valid, loadable YAML in the same shape.
    out = tmp_path / "after-edit"
    shutil.copytree(settings.content_dir, out)
    await repository.export_files(out)
    assert yaml.safe_load((out / "es" / "documents.yml").read_text())["key"] == "documents"


async def test_test_questions_are_seeded_from_content(
    settings: Settings, database: AsyncEngine
) -> None:
    repository = ContentRepository(db.sessions(database))
    await repository.import_files(settings.content_dir, settings.languages, "test")
    questions = await repository.test_questions("es")
    assert any(key == "documents" for key, _, _ in questions)
    assert await repository.add_test_question("documents", "es", "se me perdio el dui", "staff")
    assert not await repository.add_test_question("documents", "es", "se me perdio el dui", "staff")
