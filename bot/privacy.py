"""Keyed hashing of user ids and encryption of the few addresses kept to reply later.

A stolen database then reveals neither who wrote nor how to reach them: the
hash needs the secret key to be recomputed from a phone number, and the
encrypted address needs it to be read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from bot.settings import Settings, SettingsError

SECRET_ENV = "VENTANILLA_SECRET_KEY"
MIN_SECRET_CHARS = 32
PLACEHOLDERS = {"changeme", "change-me", "secret", "dev", "development", "xxx"}


def resolve_secret(settings: Settings) -> str:
    """The secret from the environment; in development a generated one kept in the data dir."""
    value = settings.secrets.secret_key
    if value:
        if len(value) < MIN_SECRET_CHARS or value.lower() in PLACEHOLDERS:
            raise SettingsError(
                f"{SECRET_ENV} must be a random value of at least {MIN_SECRET_CHARS} characters"
                " (for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return value
    if settings.is_production:
        raise SettingsError(
            f"{SECRET_ENV} is not set. In production it is required: it protects the identity of"
            " the people who write to the bot. Set it to a random value of 32+ characters."
        )
    path = settings.data_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return Path(path).read_text().strip()


class Protector:
    def __init__(self, secret: str) -> None:
        self._hash_key = hashlib.sha256(b"ventanilla-hash\x00" + secret.encode()).digest()
        fernet_key = hashlib.sha256(b"ventanilla-fernet\x00" + secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(fernet_key))

    def user_hash(self, channel: str, user_id: str) -> str:
        message = f"{channel}\x00{user_id}".encode()
        return hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()

    def seal(self, address: str) -> bytes:
        return self._fernet.encrypt(address.encode())

    def open(self, token: bytes) -> str | None:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            return None
