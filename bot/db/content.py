"""Content in the database: versions, drafts, publishing, and the store the bot serves from.

The YAML files in `content/` stay the seed and the exchange format. Each version
keeps its entry as YAML text, so import -> export gives back identical files.
Every worker notices a publication within a second, with one cheap query.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content import ContentBundle, FileContentStore, bundle_from_texts
from bot.db.models import ContentVersion, TestQuestion, utcnow

REFRESH_SECONDS = 1.0


class _LiteralDumper(yaml.SafeDumper):
    pass


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _str_representer)

FIELD_ORDER = (
    "key",
    "kind",
    "title",
    "text",
    "options",
    "source",
    "reviewed_on",
    "needs_review",
    "review_notes",
    "confirm_at",
    "expires_on",
    "test_questions",
)


def dump_entry(data: dict[str, Any]) -> str:
    """Canonical YAML for an edited entry: fixed key order, block style for the text."""
    ordered = {k: data[k] for k in FIELD_ORDER if k in data and data[k] is not None}
    ordered.update({k: v for k, v in data.items() if k not in ordered and v is not None})
    if isinstance(ordered.get("text"), str) and not ordered["text"].endswith("\n"):
        ordered["text"] += "\n"
    return yaml.dump(
        ordered, Dumper=_LiteralDumper, allow_unicode=True, sort_keys=False, width=10_000
    )


@dataclass(frozen=True)
class Version:
    id: int
    key: str
    language: str
    version: int
    status: str
    body: str
    created_by: str | None
    created_at: str

    def data(self) -> dict[str, Any]:
        return dict(yaml.safe_load(self.body))


def _version(row: ContentVersion) -> Version:
    return Version(
        row.id,
        row.key,
        row.language,
        row.version,
        row.status,
        row.body,
        row.created_by,
        row.created_at.isoformat(timespec="seconds"),
    )


def unified_diff(old: str, new: str) -> list[str]:
    """What changed, field by field, in words staff read: the text line by line, others whole."""
    try:
        before = (yaml.safe_load(old) or {}) if old else {}
        after = yaml.safe_load(new) or {}
    except yaml.YAMLError:
        return list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm=""))
    lines: list[str] = []
    for name in dict.fromkeys([*FIELD_ORDER, *before, *after]):
        a, b = before.get(name), after.get(name)
        if a == b:
            continue
        lines.append(f"@@ {name}")
        if isinstance(a, str) and isinstance(b, str) and ("\n" in a or "\n" in b):
            lines.extend(
                line
                for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=1)
                if not line.startswith(("---", "+++", "@@"))
            )
        else:
            if a is not None:
                lines.append(f"- {a}")
            if b is not None:
                lines.append(f"+ {b}")
    return lines


class ContentRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def published_texts(self) -> list[tuple[str, str, str]]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(ContentVersion.language, ContentVersion.key, ContentVersion.body).where(
                    ContentVersion.status == "published"
                )
            )
            return [(lang, key, body) for lang, key, body in rows.all()]

    async def revision(self) -> int:
        """Grows whenever anything is published: workers compare it to reload."""
        async with self._sessions() as session:
            found = await session.execute(
                select(func.max(ContentVersion.id)).where(ContentVersion.status != "draft")
            )
            return int(found.scalar() or 0)

    async def published(self, key: str, language: str) -> Version | None:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(ContentVersion).where(
                        ContentVersion.key == key,
                        ContentVersion.language == language,
                        ContentVersion.status == "published",
                    )
                )
            ).scalar_one_or_none()
            return None if row is None else _version(row)

    async def get(self, version_id: int) -> Version | None:
        async with self._sessions() as session:
            row = await session.get(ContentVersion, version_id)
            return None if row is None else _version(row)

    async def history(self, key: str, language: str) -> list[Version]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(ContentVersion)
                .where(ContentVersion.key == key, ContentVersion.language == language)
                .order_by(ContentVersion.version.desc())
            )
            return [_version(r) for r in rows.scalars()]

    async def _next_number(self, session: AsyncSession, key: str, language: str) -> int:
        found = await session.execute(
            select(func.max(ContentVersion.version)).where(
                ContentVersion.key == key, ContentVersion.language == language
            )
        )
        return int(found.scalar() or 0) + 1

    async def save_draft(self, key: str, language: str, body: str, actor: str) -> Version:
        async with self._sessions.begin() as session:
            row = ContentVersion(
                key=key,
                language=language,
                body=body,
                status="draft",
                created_by=actor,
                version=await self._next_number(session, key, language),
            )
            session.add(row)
            await session.flush()
            return _version(row)

    async def publish(self, version_id: int) -> Version:
        async with self._sessions.begin() as session:
            row = await session.get(ContentVersion, version_id)
            if row is None:
                raise KeyError(version_id)
            await session.execute(
                update(ContentVersion)
                .where(
                    ContentVersion.key == row.key,
                    ContentVersion.language == row.language,
                    ContentVersion.status == "published",
                )
                .values(status="superseded")
            )
            if row.status == "draft":
                row.status = "published"
                row.created_at = utcnow()
            else:  # re-publishing an old version (revert) makes a new version of it
                row = ContentVersion(
                    key=row.key,
                    language=row.language,
                    body=row.body,
                    status="published",
                    created_by=row.created_by,
                    version=await self._next_number(session, row.key, row.language),
                )
                session.add(row)
            await session.flush()
            return _version(row)

    async def revert(self, version_id: int, actor: str) -> Version:
        old = await self.get(version_id)
        if old is None:
            raise KeyError(version_id)
        draft = await self.save_draft(old.key, old.language, old.body, actor)
        return await self.publish(draft.id)

    async def import_files(self, content_dir: Path, languages: Iterable[str], actor: str) -> int:
        """Load `content/` files; a new version only where a file differs from what is published."""
        created = 0
        for language in languages:
            for path in sorted((content_dir / language).glob("*.yml")):
                body = path.read_text(encoding="utf-8")
                current = await self.published(path.stem, language)
                if current is not None and current.body == body:
                    continue
                draft = await self.save_draft(path.stem, language, body, actor)
                await self.publish(draft.id)
                created += 1
        await self.seed_test_questions()
        return created

    async def export_files(self, content_dir: Path) -> int:
        written = 0
        for language, key, body in await self.published_texts():
            path = content_dir / language / f"{key}.yml"
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text(encoding="utf-8") != body:
                path.write_text(body, encoding="utf-8")
                written += 1
        return written

    async def seed_test_questions(self) -> None:
        for language, key, body in await self.published_texts():
            data = yaml.safe_load(body) or {}
            for question in data.get("test_questions") or []:
                if str(question).strip() and not str(question).startswith("["):
                    await self.add_test_question(key, language, str(question), "content")

    async def add_test_question(self, key: str, language: str, text: str, actor: str) -> bool:
        async with self._sessions.begin() as session:
            exists = await session.execute(
                select(TestQuestion.id).where(
                    TestQuestion.key == key,
                    TestQuestion.language == language,
                    TestQuestion.text == text,
                )
            )
            if exists.first() is not None:
                return False
            session.add(TestQuestion(key=key, language=language, text=text, created_by=actor))
            return True

    async def test_questions(self, language: str | None = None) -> list[tuple[str, str, str]]:
        async with self._sessions() as session:
            query = select(TestQuestion.key, TestQuestion.language, TestQuestion.text).order_by(
                TestQuestion.key, TestQuestion.id
            )
            if language:
                query = query.where(TestQuestion.language == language)
            return [(k, lang, t) for k, lang, t in (await session.execute(query)).all()]


class DbContentStore(FileContentStore):
    """Serves the published versions from memory; reloads when the revision moves."""

    def __init__(
        self, repository: ContentRepository, default_language: str, languages: Iterable[str]
    ) -> None:
        super().__init__(ContentBundle(), default_language)
        self._repository = repository
        self._languages = tuple(languages)
        self._revision = -1
        self._checked = 0.0

    async def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < REFRESH_SECONDS:
            return
        self._checked = now
        revision = await self._repository.revision()
        if revision == self._revision:
            return
        bundle = bundle_from_texts(await self._repository.published_texts(), self._languages)
        self._bundle, self._danger, self._revision = bundle, bundle.merged_danger(), revision

    @property
    def bundle(self) -> ContentBundle:
        return self._bundle


__all__ = [
    "ContentRepository",
    "DbContentStore",
    "Version",
    "dump_entry",
    "unified_diff",
]
