"""Staff accounts: argon2 passwords, roles, lockout after repeated failures, sessions, audit log.

Hashing runs in one dedicated worker thread: argon2 is deliberately slow, and on
the event loop a few wrong logins a second would stall every person's chat; with
a single worker, at a lower CPU priority, a flood of logins queues for one core
instead of taking them all. Parameters are OWASP's argon2id minimum (19 MiB,
2 passes, 1 lane); older hashes are upgraded at the next successful login. Sessions live in the
database, so logging out or changing a password ends them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import AuditEvent, StaffSession, StaffUser, utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD_CHARS = 10
SESSION_LIFETIME = dt.timedelta(hours=8)
HASHING_NICENESS = 10


def _yield_to_chats() -> None:
    """The hashing thread runs at a lower CPU priority than the event loop (Linux threads
    can be reniced one by one): on a busy machine people's chats come before logins."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
        self._hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
        self._pool = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="argon2", initializer=_yield_to_chats
        )
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    async def _hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, self._hasher.hash, password
        )

    async def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, self._hasher.verify, password_hash, password
            )
        except (VerificationError, InvalidHashError):
            return False

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
            user = StaffUser(email=email, password_hash=await self._hash(password), role=role.value)
            session.add(user)
            session.add(
                AuditEvent(actor=actor, action="create_user", target=email, detail=role.value)
            )
            await session.flush()
            return Staff(user.id, user.email, role)

    async def login(self, email: str, password: str) -> tuple[LoginResult, Staff | None]:
        """Unknown, locked and wrong all cost one argon2 verification: no account is
        revealed by how long the answer takes."""
        email = email.strip().lower()
        async with self._sessions() as session:
            user = (
                await session.execute(select(StaffUser).where(StaffUser.email == email))
            ).scalar_one_or_none()
            snapshot = None if user is None else (user.id, user.password_hash, user.locked_until)
        if snapshot is None:
            await self._verify(self._dummy, password)
            return LoginResult.BAD, None
        user_id, password_hash, locked_until = snapshot
        now = utcnow()
        if locked_until is not None and locked_until > now:
            await self._verify(self._dummy, password)
            return LoginResult.LOCKED, None
        good = await self._verify(password_hash, password)
        async with self._sessions.begin() as session:
            user = await session.get(StaffUser, user_id)
            if user is None:
                return LoginResult.BAD, None
            if not good:
                user.failed_logins += 1
                if user.failed_logins >= MAX_FAILED_LOGINS:
                    user.locked_until = now + LOCKOUT
                    user.failed_logins = 0
                    session.add(AuditEvent(actor=email, action="account_locked", target=email))
                    return LoginResult.LOCKED, None
                return LoginResult.BAD, None
            user.failed_logins = 0
            user.locked_until = None
            if self._hasher.check_needs_rehash(user.password_hash):
                user.password_hash = await self._hash(password)
            session.add(AuditEvent(actor=email, action="login", target=email))
            return LoginResult.OK, _staff(user)

    async def start_session(self, staff: Staff) -> str:
        """A new session token for the cookie; only its hash is stored."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        async with self._sessions.begin() as session:
            session.add(
                StaffSession(
                    token_hash=_token_hash(token),
                    staff_id=staff.id,
                    created_at=now,
                    expires_at=now + SESSION_LIFETIME,
                )
            )
        return token

    async def session_staff(self, token: str) -> Staff | None:
        async with self._sessions() as session:
            found = await session.execute(
                select(StaffUser)
                .join(StaffSession, StaffSession.staff_id == StaffUser.id)
                .where(
                    StaffSession.token_hash == _token_hash(token),
                    StaffSession.expires_at > utcnow(),
                )
            )
            user = found.scalar_one_or_none()
            return None if user is None else _staff(user)

    async def end_session(self, token: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(StaffSession).where(
                    (StaffSession.token_hash == _token_hash(token))
                    | (StaffSession.expires_at <= utcnow())
                )
            )

    async def set_password(self, email: str, password: str, actor: str = "cli") -> None:
        """A new password ends every session of the account (a stolen one included)."""
        email = email.strip().lower()
        if len(password) < MIN_PASSWORD_CHARS:
            raise AccountError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
        new_hash = await self._hash(password)
        async with self._sessions.begin() as session:
            user = (
                await session.execute(select(StaffUser).where(StaffUser.email == email))
            ).scalar_one_or_none()
            if user is None:
                raise AccountError(f"{email} has no account")
            user.password_hash = new_hash
            user.failed_logins = 0
            user.locked_until = None
            await session.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))
            session.add(AuditEvent(actor=actor, action="set_password", target=email))

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
