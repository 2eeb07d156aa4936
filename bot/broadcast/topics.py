"""Alert topics from `content/alert_topics.yml`: a key, and a name and description per language."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Topic:
    key: str
    names: dict[str, str]
    descriptions: dict[str, str]

    def name(self, language: str) -> str:
        return self.names.get(language) or next(iter(self.names.values()))


@dataclass(frozen=True)
class Topics:
    items: tuple[Topic, ...]

    @classmethod
    def from_file(cls, path: Path, languages: tuple[str, ...]) -> Topics:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        items = []
        for raw in data.get("topics") or []:
            key = str(raw["key"])
            names, descriptions = {}, {}
            for language in languages:
                block = raw.get(language) or {}
                if not block.get("name") or not block.get("description"):
                    raise ValueError(f"{path}: topic {key!r} needs a {language} name and text")
                names[language] = str(block["name"])
                descriptions[language] = str(block["description"])
            items.append(Topic(key, names, descriptions))
        if not items:
            raise ValueError(f"{path}: no topics")
        return cls(tuple(items))

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(t.key for t in self.items)

    def get(self, key: str) -> Topic | None:
        return next((t for t in self.items if t.key == key), None)
