"""The `broadcast:` section of config.yml as typed values, with the documented defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT, Settings


@dataclass(frozen=True)
class BroadcastConfig:
    topics_file: Path
    max_per_week: int = 2
    inactive_days: int = 180
    telegram_per_second: float = 25.0
    telegram_chat_seconds: float = 1.0
    twilio_per_second: float = 10.0
    batch_size: int = 20
    lease_seconds: float = 30.0
    poll_seconds: float = 5.0

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], root: Path = PROJECT_ROOT) -> BroadcastConfig:
        path = Path(str(raw.get("topics_file") or "content/alert_topics.yml"))
        return cls(
            topics_file=path if path.is_absolute() else root / path,
            max_per_week=int(raw.get("max_per_week", 2)),
            inactive_days=int(raw.get("inactive_days", 180)),
            telegram_per_second=float(raw.get("telegram_per_second", 25)),
            telegram_chat_seconds=float(raw.get("telegram_chat_seconds", 1.0)),
            twilio_per_second=float(raw.get("twilio_per_second", 10)),
            batch_size=int(raw.get("batch_size", 20)),
            lease_seconds=float(raw.get("lease_seconds", 30)),
            poll_seconds=float(raw.get("poll_seconds", 5)),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> BroadcastConfig:
        return cls.from_mapping(settings.broadcast, settings.content_dir.parent)
