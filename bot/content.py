"""Curated answers read from `content/<lang>/<key>.yml`, and their validation.

The files are the seed and the exchange format; the store keeps them in memory
so that the per-message path never touches the disk.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from bot.content_rules import SCREEN_CHARS, source_problems, text_problems
from kernel.normalize import normalize_text
from kernel.types import ContentEntry, DangerPhrases
from nlu.training_data import FAST_SAFE_LOADER

MAX_TEXT_CHARS = SCREEN_CHARS
MAX_TITLE_CHARS = 24
DANGER_KEY = "danger_phrases"
# The lists a danger_phrases file may hold, in DangerPhrases order.
DANGER_LISTS = tuple(f.name for f in fields(DangerPhrases))

# Engine messages the code asks for by name; `content check` proves they exist.
SYSTEM_KEYS = (
    "fallback",
    "sms_more",
    "sms_stopped",
    "sms_started",
    "sms_help",
    "sms_daily_limit",
    "discreet_on",
    "discreet_off",
    "discreet_preview",
    "whatsapp_safety_tip",
    "telegram_chat_cleaned",
    "quick_exit",
    "nlu_unavailable",
    "empty_message",
    "message_too_long",
    "unsupported_language",
    "unsupported_media",
    "location_received",
    "contact_received",
    "group_chat",
    "not_understood",
    "crisis_support",
    "handoff_opened",
    "privacy_notice",
    "delete_confirm",
    "delete_done",
    "delete_cancelled",
    "outdated_note",
    "unconfirmed_note",
    "language_prompt",
    "opt_out_done",
    "opt_in_done",
    "handoff_waiting",
    "handoff_returned",
    "handoff_outside_hours",
    "reference_code",
    "referral_menu",
    "alerts_done",
    "alerts_stopped",
    "alerts_expired",
    "alerts_footer",
    "referral_unavailable",
)

# intent -> content key, where the engine answers an intent with another entry
# (the crisis answer serves both the danger phrases and the `self_harm` intent).
ANSWERED_BY = {"self_harm": "crisis_support"}

# intent: answers an NLU intent; system: an engine message the code asks for;
# topic: a sub-topic reached by a button from another answer.
KINDS = frozenset({"intent", "system", "topic"})


class ContentError(Exception):
    """The content folder cannot be loaded; the message names the file."""


def _as_date(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)


def entry_from_mapping(data: Mapping[str, Any], language: str) -> ContentEntry:
    return ContentEntry(
        key=str(data["key"]),
        language=language,
        kind=str(data.get("kind", "intent")),
        title=str(data.get("title", "")),
        text=str(data.get("text", "")).strip(),
        options=_as_tuple(data.get("options")),
        sources=_as_tuple(data.get("source")),
        reviewed_on=_as_date(data.get("reviewed_on")),
        needs_review=bool(data.get("needs_review", False)),
        review_notes=str(data.get("review_notes") or ""),
        expires_on=_as_date(data.get("expires_on")),
        test_questions=_as_tuple(data.get("test_questions")),
        confirm_at=str(data.get("confirm_at") or "").strip(),
    )


@dataclass
class ContentBundle:
    """Everything in the content folder, per language."""

    entries: dict[str, dict[str, ContentEntry]] = field(default_factory=dict)
    danger: dict[str, DangerPhrases] = field(default_factory=dict)
    raw: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def merged_danger(self) -> DangerPhrases:
        """One list for all languages: a person in danger may write in either."""
        merged: dict[str, list[str]] = {name: [] for name in DANGER_LISTS}
        for phrases in self.danger.values():
            for name in DANGER_LISTS:
                merged[name].extend(getattr(phrases, name))
        unique = {
            name: tuple(dict.fromkeys(p for p in merged[name] if p)) for name in DANGER_LISTS
        }
        return DangerPhrases(**unique)


def bundle_from_texts(
    items: Iterable[tuple[str, str, str]], languages: Iterable[str]
) -> ContentBundle:
    """Build a bundle from (language, key, YAML text) triples, from files or the database."""
    bundle = ContentBundle()
    for language in languages:
        bundle.entries[language] = {}
        bundle.raw[language] = {}
    for language, key, body in sorted(items):
        if language not in bundle.entries:
            continue
        try:
            data = yaml.load(body, Loader=FAST_SAFE_LOADER)
        except yaml.YAMLError as exc:
            raise ContentError(f"{language}/{key}.yml: not valid YAML: {exc}") from exc
        if not isinstance(data, dict) or "key" not in data:
            raise ContentError(f"{language}/{key}.yml: expected a mapping with a 'key'")
        bundle.raw[language][key] = data
        if data["key"] == DANGER_KEY:
            bundle.danger[language] = DangerPhrases(
                *(
                    tuple(normalize_text(p) for p in data.get(name) or ())
                    for name in DANGER_LISTS
                )
            )
            continue
        bundle.entries[language][key] = entry_from_mapping(data, language)
    return bundle


def load_bundle(content_dir: Path, languages: Iterable[str]) -> ContentBundle:
    languages = tuple(languages)
    items: list[tuple[str, str, str]] = []
    for language in languages:
        folder = content_dir / language
        if not folder.is_dir():
            raise ContentError(f"missing content folder {folder}")
        items.extend(
            (language, path.stem, path.read_text(encoding="utf-8"))
            for path in sorted(folder.glob("*.yml"))
        )
    return bundle_from_texts(items, languages)


class FileContentStore:
    """Content served from the files, loaded once at start-up."""

    def __init__(self, bundle: ContentBundle, default_language: str) -> None:
        self._bundle = bundle
        self._default = default_language
        self._danger = bundle.merged_danger()

    @classmethod
    def from_dir(
        cls, content_dir: Path, languages: Iterable[str], default_language: str
    ) -> FileContentStore:
        return cls(load_bundle(content_dir, languages), default_language)

    async def refresh(self, force: bool = False) -> None:
        """Files change only with a restart; nothing to do."""

    def has(self, language: str, key: str) -> bool:
        return key in self._bundle.entries.get(language, {})

    def get(self, language: str, key: str) -> ContentEntry:
        entries = self._bundle.entries.get(language) or self._bundle.entries[self._default]
        if key in entries:
            return entries[key]
        return self._bundle.entries[self._default][key]

    def danger_phrases(self) -> DangerPhrases:
        return self._danger


@dataclass
class CheckReport:
    errors: list[str] = field(default_factory=list)
    needs_review: list[ContentEntry] = field(default_factory=list)
    expired: list[ContentEntry] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _check_entry(entry: ContentEntry, keys: set[str], report: CheckReport) -> None:
    where = f"{entry.language}/{entry.key}.yml"
    if entry.kind not in KINDS:
        report.errors.append(f"{where}: kind must be one of {sorted(KINDS)}, not {entry.kind!r}")
    if not entry.text:
        report.errors.append(f"{where}: text is empty")
    if not entry.title or len(entry.title) > MAX_TITLE_CHARS:
        report.errors.append(f"{where}: title must have 1-{MAX_TITLE_CHARS} characters")
    report.errors.extend(f"{where}: {problem}" for problem in text_problems(entry))
    report.errors.extend(f"{where}: {problem}" for problem in source_problems(entry))
    if not entry.reviewed_on or not _DATE.match(entry.reviewed_on):
        report.errors.append(f"{where}: reviewed_on must be a YYYY-MM-DD date")
    if entry.expires_on and not _DATE.match(entry.expires_on):
        report.errors.append(f"{where}: expires_on must be a YYYY-MM-DD date")
    if entry.needs_review and not entry.review_notes:
        report.errors.append(f"{where}: needs_review is set but review_notes says nothing")
    for option in entry.options:
        if option not in keys:
            report.errors.append(f"{where}: option {option!r} is not a content key")


def check_bundle(
    bundle: ContentBundle,
    intents: Iterable[str],
    today: dt.date | None = None,
) -> CheckReport:
    """Structure, es/en parity, length and coverage; lists entries staff must review."""
    today = today or dt.date.today()
    report = CheckReport()
    languages = list(bundle.entries)
    if not languages:
        report.errors.append("no content languages loaded")
        return report
    first = languages[0]
    for language in languages:
        keys = set(bundle.entries[language])
        for path_key, entry in bundle.entries[language].items():
            if path_key != entry.key:
                report.errors.append(f"{language}/{path_key}.yml: key is {entry.key!r}")
            _check_entry(entry, keys, report)
        for intent in intents:
            if intent in ANSWERED_BY:
                if ANSWERED_BY[intent] not in keys:
                    report.errors.append(
                        f"{language}: no answer {ANSWERED_BY[intent]!r} for intent {intent!r}"
                    )
                continue
            if intent not in keys:
                report.errors.append(f"{language}: no answer for intent {intent!r}")
            elif bundle.entries[language][intent].kind != "intent":
                report.errors.append(f"{language}/{intent}.yml: kind must be intent")
        for system_key in SYSTEM_KEYS:
            if system_key not in keys:
                report.errors.append(f"{language}: missing system message {system_key!r}")
        if language not in bundle.danger:
            report.errors.append(f"{language}: missing {DANGER_KEY}.yml")
        elif not bundle.danger[language].emergency or not bundle.danger[language].crisis:
            report.errors.append(f"{language}/{DANGER_KEY}.yml: emergency and crisis lists needed")
        if language == first:
            continue
        reference = bundle.entries[first]
        for key in sorted(set(reference) ^ keys):
            missing_in = language if key in reference else first
            report.errors.append(f"{missing_in}: key {key!r} exists in only one language")
        for key in sorted(set(reference) & keys):
            a, b = reference[key], bundle.entries[language][key]
            if a.options != b.options:
                report.errors.append(f"{key}: options differ between {first} and {language}")
            if a.kind != b.kind:
                report.errors.append(f"{key}: kind differs between {first} and {language}")
            if a.needs_review != b.needs_review:
                report.errors.append(f"{key}: needs_review differs between {first} and {language}")
    for entry in bundle.entries[first].values():
        if entry.needs_review:
            report.needs_review.append(entry)
        expires = entry.expires_on
        if expires and _DATE.match(expires) and dt.date.fromisoformat(expires) < today:
            report.expired.append(entry)
    return report
