"""Settings: `config.yml` for what may be public, the environment for secrets.

Everything is resolved once, in the composition root, and passed down as typed
sections; no other module reads the environment on its own (the deploy notes
test lists the variables read here).
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
    # Tries per parse: a timeout or a dropped connection under load gets another try
    # before the message falls back to the phrase lists and the menu.
    attempts: int = 3
    # Parse requests out at once; texts arriving meanwhile go together in the next one
    # (bot/batching.py). One Rasa server works one request at a time: 2 keeps it busy.
    requests_in_flight: int = 2


@dataclass(frozen=True)
class TelegramSettings:
    """The Telegram channel; present only when TELEGRAM_BOT_TOKEN is set."""

    token: str
    webhook_secret: str = ""
    api_base_url: str = ""  # tests: a local Bot API server


@dataclass(frozen=True)
class TwilioSettings:
    """WhatsApp and SMS through Twilio; present only when TWILIO_AUTH_TOKEN is set."""

    account_sid: str
    auth_token: str
    whatsapp_from: str = ""  # "whatsapp:+1415..."
    sms_from: str = ""  # "+1415..." or a Messaging Service SID; SMS is off without it
    api_base_url: str = ""  # tests: where to send what is meant for Twilio's hosts


@dataclass(frozen=True)
class AlertSettings:
    """Staff alerts for urgent tickets: a Telegram group and/or e-mail."""

    public_admin_url: str = ""  # the inbox link; default PUBLIC_BASE_URL + /admin/inbox
    telegram_chat_id: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password: str = ""
    email_from: str = ""
    email_to: tuple[str, ...] = ()
    max_per_minute: int = 5


@dataclass(frozen=True)
class SecretSettings:
    """Secrets that guard people's data and the app's own endpoints."""

    secret_key: str = field(default="", repr=False)  # VENTANILLA_SECRET_KEY
    metrics_token: str = field(default="", repr=False)


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
    # The HTTPS address the platforms call (webhook registration, signatures, CORS).
    public_base_url: str = ""
    telegram: TelegramSettings | None = None
    twilio: TwilioSettings | None = None
    alerts: AlertSettings = field(default_factory=AlertSettings)
    secrets: SecretSettings = field(default_factory=SecretSettings, repr=False)
    # Approved Content SID for WhatsApp messages outside the 24-hour window.
    whatsapp_template_sid: str = ""
    sms_max_segments_per_day: int = 20
    quick_exit_url: str = "https://www.google.com/"
    handoff_silence_hours: float = 24.0
    office_hours: str = ""
    # Answers last reviewed longer ago than this are listed as stale on the dashboard.
    content_stale_after_days: int = 180
    broadcast: Mapping[str, Any] = field(default_factory=dict)
    limits: Mapping[str, Any] = field(default_factory=dict)

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


def _nlu(nlu: Mapping[str, Any], env: Mapping[str, str], root: Path) -> NLUSettings:
    return NLUSettings(
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
        attempts=max(1, int(nlu.get("attempts", 3))),
        requests_in_flight=max(1, int(nlu.get("requests_in_flight", 2))),
    )


def _telegram(env: Mapping[str, str]) -> TelegramSettings | None:
    token = env.get("TELEGRAM_BOT_TOKEN", "")
    if not token:
        return None
    return TelegramSettings(
        token=token,
        webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET", ""),
        api_base_url=env.get("TELEGRAM_API_BASE_URL", ""),
    )


def _twilio(env: Mapping[str, str]) -> TwilioSettings | None:
    token = env.get("TWILIO_AUTH_TOKEN", "")
    if not token:
        return None
    return TwilioSettings(
        account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
        auth_token=token,
        whatsapp_from=env.get("TWILIO_WHATSAPP_FROM", ""),
        sms_from=env.get("TWILIO_SMS_FROM", ""),
        api_base_url=env.get("TWILIO_API_BASE_URL", ""),
    )


def _alerts(alerts: Mapping[str, Any], env: Mapping[str, str]) -> AlertSettings:
    return AlertSettings(
        public_admin_url=str(alerts.get("public_admin_url") or ""),
        telegram_chat_id=str(alerts.get("telegram_chat_id") or ""),
        smtp_host=str(alerts.get("smtp_host") or ""),
        smtp_port=int(alerts.get("smtp_port", 587)),
        smtp_starttls=bool(alerts.get("smtp_starttls", True)),
        smtp_username=env.get("SMTP_USERNAME", ""),
        smtp_password=env.get("SMTP_PASSWORD", ""),
        email_from=str(alerts.get("email_from") or ""),
        email_to=tuple(str(r) for r in alerts.get("email_to") or ()),
        max_per_minute=int(alerts.get("max_per_minute", 5)),
    )


def _section(raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return raw.get(name) or {}


def _settings(raw: dict[str, Any], env: Mapping[str, str], root: Path) -> Settings:
    server, content, messages = raw["server"], raw["content"], raw["messages"]
    data_dir = _path(raw.get("data_dir", "data"), root)
    handoff, webchat = _section(raw, "handoff"), _section(raw, "webchat")
    return Settings(
        mode=str(raw.get("mode", "development")),
        data_dir=data_dir,
        host=str(server["host"]),
        port=int(server["port"]),
        nlu=_nlu(raw["nlu"], env, root),
        content_dir=_path(content["dir"], root),
        default_language=str(content["default_language"]),
        languages=tuple(content["languages"]),
        content_stale_after_days=int(content.get("stale_after_days", 180)),
        max_message_chars=int(messages["max_chars"]),
        dedupe_cache_size=int(messages["dedupe_cache_size"]),
        retention_days=int(raw["privacy"]["retention_days"]),
        database_url=env.get("DATABASE_URL", "") or f"sqlite:///{data_dir / 'ventanilla.sqlite3'}",
        public_base_url=env.get("PUBLIC_BASE_URL", ""),
        telegram=_telegram(env),
        twilio=_twilio(env),
        alerts=_alerts(_section(raw, "alerts"), env),
        secrets=SecretSettings(
            secret_key=env.get("VENTANILLA_SECRET_KEY", ""),
            metrics_token=env.get("METRICS_TOKEN", ""),
        ),
        whatsapp_template_sid=env.get("TWILIO_TEMPLATE_SID", "")
        or str(_section(raw, "whatsapp").get("template_sid") or ""),
        sms_max_segments_per_day=int(_section(raw, "sms").get("max_segments_per_day", 20)),
        quick_exit_url=str(webchat.get("quick_exit_url") or "https://www.google.com/"),
        handoff_silence_hours=float(handoff.get("silence_hours", 24)),
        office_hours=str(handoff.get("office_hours") or ""),
        broadcast=dict(_section(raw, "broadcast")),
        limits=dict(_section(raw, "limits")),
    )


def load_settings(
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    root: Path = PROJECT_ROOT,
) -> Settings:
    """The settings from `config_path` (or VENTANILLA_CONFIG, or config.yml) and `env`
    (the process environment unless given); read once, by the composition root."""
    env = dict(os.environ if env is None else env)
    config_path = config_path or _path(env.get("VENTANILLA_CONFIG", "config.yml"), root)
    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise SettingsError(f"config file not found: {config_path}") from exc
    try:
        settings = _settings(_override(raw, env), env, root)
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
    telegram = settings.telegram
    checks = [
        ("VENTANILLA_SECRET_KEY", settings.secrets.secret_key, 32),
        # The webhook secret matters only when the Telegram channel is on.
        ("TELEGRAM_WEBHOOK_SECRET", telegram.webhook_secret if telegram else "", MIN_TOKEN_CHARS),
        ("METRICS_TOKEN", settings.secrets.metrics_token, MIN_TOKEN_CHARS),
        ("NLU_AUTH_TOKEN", settings.nlu.auth_token, MIN_TOKEN_CHARS),
    ]
    problems = []
    for name, value, min_chars in checks:
        if not value and name != "VENTANILLA_SECRET_KEY":
            continue  # optional: the feature it guards is off, or the token is generated
        why = weak_secret(value, min_chars) if value else "is not set"
        if why:
            problems.append(
                f"{name} {why}; generate one with:"
                " python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
    return problems
