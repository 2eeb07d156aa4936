"""Settings: `config.yml` for what may be public, the environment for secrets.

Everything is resolved once, in the composition root, and passed down; no
module reads the environment on its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(Exception):
    """A setting is missing or invalid; the message says which and how to fix it."""


@dataclass(frozen=True)
class NLUSettings:
    url: str
    port: int
    auth_token: str
    timeout_seconds: float
    startup_timeout_seconds: float
    fallback_threshold: float
    safety_threshold: float
    second_need_threshold: float
    min_known_word_share: float
    models_dir: Path
    data_dir: Path
    config: Path


@dataclass(frozen=True)
class Settings:
    mode: str
    data_dir: Path
    host: str
    port: int
    nlu: NLUSettings
    content_dir: Path
    default_language: str
    languages: tuple[str, ...]
    max_message_chars: int
    dedupe_cache_size: int
    retention_days: int
    database_url: str
    whatsapp_template_sid: str = ""
    sms_max_segments_per_day: int = 20
    quick_exit_url: str = "https://www.google.com/"
    handoff_silence_hours: float = 24.0
    office_hours: str = ""
    # Answers last reviewed longer ago than this are listed as stale on the dashboard.
    content_stale_after_days: int = 180
    alerts: Mapping[str, Any] = field(default_factory=dict)
    broadcast: Mapping[str, Any] = field(default_factory=dict)
    limits: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def is_production(self) -> bool:
        return self.mode == "production"


def _override(raw: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Apply VENTANILLA_<SECTION>_<KEY> variables on top of the YAML values."""
    merged: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    for name, value in env.items():
        if not name.startswith("VENTANILLA_") or name == "VENTANILLA_SECRET_KEY":
            continue
        parts = name[len("VENTANILLA_") :].lower().split("_", 1)
        if parts[0] in merged and isinstance(merged[parts[0]], dict) and len(parts) == 2:
            section = merged[parts[0]]
            if parts[1] in section:
                section[parts[1]] = yaml.safe_load(value)
        elif len(parts) == 2 and f"{parts[0]}_{parts[1]}" in merged:
            merged[f"{parts[0]}_{parts[1]}"] = yaml.safe_load(value)
        elif parts[0] in merged and len(parts) == 1:
            merged[parts[0]] = yaml.safe_load(value)
    return merged


def _path(value: str | os.PathLike[str], root: Path) -> Path:
    path = Path(value)
    return path if path.is_absolute() else root / path


def load_settings(
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    root: Path = PROJECT_ROOT,
) -> Settings:
    env = dict(os.environ if env is None else env)
    config_path = config_path or _path(env.get("VENTANILLA_CONFIG", "config.yml"), root)
    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise SettingsError(f"config file not found: {config_path}") from exc
    raw = _override(raw, env)
    try:
        nlu = raw["nlu"]
        server = raw["server"]
        content = raw["content"]
        settings = Settings(
            mode=str(raw.get("mode", "development")),
            data_dir=_path(raw.get("data_dir", "data"), root),
            host=str(server["host"]),
            port=int(server["port"]),
            nlu=NLUSettings(
                url=env.get("NLU_URL", str(nlu.get("url") or "")).rstrip("/"),
                port=int(nlu["port"]),
                auth_token=env.get("NLU_AUTH_TOKEN", ""),
                timeout_seconds=float(nlu["timeout_seconds"]),
                startup_timeout_seconds=float(nlu["startup_timeout_seconds"]),
                fallback_threshold=float(nlu["fallback_threshold"]),
                safety_threshold=float(nlu["safety_threshold"]),
                second_need_threshold=float(nlu.get("second_need_threshold", 0.6)),
                min_known_word_share=float(nlu["min_known_word_share"]),
                models_dir=_path(nlu["models_dir"], root),
                data_dir=_path(nlu["data_dir"], root),
                config=_path(nlu["config"], root),
            ),
            content_dir=_path(content["dir"], root),
            default_language=str(content["default_language"]),
            languages=tuple(content["languages"]),
            content_stale_after_days=int(content.get("stale_after_days", 180)),
            max_message_chars=int(raw["messages"]["max_chars"]),
            dedupe_cache_size=int(raw["messages"]["dedupe_cache_size"]),
            retention_days=int(raw["privacy"]["retention_days"]),
            database_url=env.get("DATABASE_URL", "")
            or f"sqlite:///{_path(raw.get('data_dir', 'data'), root) / 'ventanilla.sqlite3'}",
            whatsapp_template_sid=str((raw.get("whatsapp") or {}).get("template_sid") or ""),
            sms_max_segments_per_day=int(
                (raw.get("sms") or {}).get("max_segments_per_day", 20)
            ),
            quick_exit_url=str(
                (raw.get("webchat") or {}).get("quick_exit_url") or "https://www.google.com/"
            ),
            handoff_silence_hours=float((raw.get("handoff") or {}).get("silence_hours", 24)),
            office_hours=str((raw.get("handoff") or {}).get("office_hours") or ""),
            alerts=dict(raw.get("alerts") or {}),
            broadcast=dict(raw.get("broadcast") or {}),
            limits=dict(raw.get("limits") or {}),
            env=env,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SettingsError(f"invalid setting in {config_path}: {exc}") from exc
    if settings.mode not in {"development", "production"}:
        raise SettingsError(f"mode must be development or production, not {settings.mode!r}")
    return settings


MIN_SECRET_VARIETY = 10  # distinct characters: 32 x "a" is long but guessable
MIN_TOKEN_CHARS = 16


def weak_secret(value: str, min_chars: int) -> str | None:
    """Why a secret is too weak to guard people's data, or None."""
    if len(value) < min_chars:
        return f"has {len(value)} characters (at least {min_chars} are needed)"
    if len(set(value)) < min(MIN_SECRET_VARIETY, min_chars):
        return f"uses only {len(set(value))} different characters (it must be random)"
    return None


def production_secret_problems(settings: Settings) -> list[str]:
    """In production, start-up stops on a weak secret rather than run with it. Development
    keeps working with test values; its own secret key is generated at random."""
    if not settings.is_production:
        return []
    env = settings.env
    checks = [
        ("VENTANILLA_SECRET_KEY", env.get("VENTANILLA_SECRET_KEY", ""), 32),
        ("TELEGRAM_WEBHOOK_SECRET", env.get("TELEGRAM_WEBHOOK_SECRET", ""), MIN_TOKEN_CHARS),
        ("METRICS_TOKEN", env.get("METRICS_TOKEN", ""), MIN_TOKEN_CHARS),
        ("NLU_AUTH_TOKEN", env.get("NLU_AUTH_TOKEN", ""), MIN_TOKEN_CHARS),
    ]
    problems = []
    for name, value, min_chars in checks:
        if not value and name != "VENTANILLA_SECRET_KEY":
            continue  # optional: the feature it guards is off, or the token is generated
        if name == "TELEGRAM_WEBHOOK_SECRET" and not env.get("TELEGRAM_BOT_TOKEN"):
            continue
        why = weak_secret(value, min_chars) if value else "is not set"
        if why:
            problems.append(
                f"{name} {why}; generate one with:"
                " python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
    return problems
