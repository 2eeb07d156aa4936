"""Staff accounts: argon2 passwords, roles, lockout after repeated failures, audit log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import AuditEvent, StaffUser, utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD_CHARS = 10


class Role(StrEnum):
    EDITOR = "editor"
    AGENT = "agent"
    VIEWER = "viewer"


# What each role may do; viewers read, agents answer people, editors change content.
PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.VIEWER: frozenset({"view"}),
    Role.AGENT: frozenset({"view", "inbox"}),
    Role.EDITOR: frozenset({"view", "inbox", "edit"}),
}


class AccountError(Exception):
    pass


@dataclass(frozen=True)
class Staff:
    id: int
    email: str
    role: Role
    language: str | None = None  # the staff pages' language they chose

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS[self.role]


class LoginResult(StrEnum):
    OK = "ok"
    BAD = "bad"
    LOCKED = "locked"


class Accounts:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._hasher = PasswordHasher()

    async def create(self, email: str, password: str, role: Role, actor: str = "cli") -> Staff:
        email = email.strip().lower()
        if "@" not in email:
            raise AccountError("an e-mail address is needed")
        if len(password) < MIN_PASSWORD_CHARS:
            raise AccountError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
        async with self._sessions.begin() as session:
            exists = await session.execute(select(StaffUser.id).where(StaffUser.email == email))
            if exists.first() is not None:
                raise AccountError(f"{email} already has an account")
            user = StaffUser(
                email=email, password_hash=self._hasher.hash(password), role=role.value
            )
            session.add(user)
            session.add(
                AuditEvent(actor=actor, action="create_user", target=email, detail=role.value)
            )
            await session.flush()
            return Staff(user.id, user.email, role)

    async def login(self, email: str, password: str) -> tuple[LoginResult, Staff | None]:
        email = email.strip().lower()
        async with self._sessions.begin() as session:
            user = (
                await session.execute(select(StaffUser).where(StaffUser.email == email))
            ).scalar_one_or_none()
            if user is None:
                self._hasher.hash(password)  # same work either way: no account probing by timing
                return LoginResult.BAD, None
            now = utcnow()
            if user.locked_until is not None and user.locked_until > now:
                return LoginResult.LOCKED, None
            try:
                self._hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                user.failed_logins += 1
                if user.failed_logins >= MAX_FAILED_LOGINS:
                    user.locked_until = now + LOCKOUT
                    user.failed_logins = 0
                    session.add(AuditEvent(actor=email, action="account_locked", target=email))
                    return LoginResult.LOCKED, None
                return LoginResult.BAD, None
            user.failed_logins = 0
            user.locked_until = None
            session.add(AuditEvent(actor=email, action="login", target=email))
            return LoginResult.OK, _staff(user)

    async def get(self, user_id: int) -> Staff | None:
        async with self._sessions() as session:
            user = await session.get(StaffUser, user_id)
            return None if user is None else _staff(user)

    async def set_language(self, user_id: int, language: str) -> None:
        async with self._sessions.begin() as session:
            user = await session.get(StaffUser, user_id)
            if user is not None:
                user.language = language


def _staff(user: StaffUser) -> Staff:
    return Staff(user.id, user.email, Role(user.role), user.language)


class AuditLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, actor: str, action: str, target: str = "", detail: str = "") -> None:
        async with self._sessions.begin() as session:
            session.add(AuditEvent(actor=actor, action=action, target=target, detail=detail))

    async def recent(self, limit: int = 100) -> list[AuditEvent]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
            )
            return list(rows.scalars())
