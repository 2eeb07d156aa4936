"""What every group of staff pages needs: the app's parts, rendering, accounts, audit.

The parts arrive from the composition root as `AdminDeps`; each page group gets one
`PageContext` and knows nothing of the others or of how the app is assembled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from bot.admin.accounts import Accounts, AuditLog, Staff
from bot.admin.gate import EngineFor
from bot.admin.retrain import Retrainer
from bot.admin.security import Handler, requires
from bot.db.content import ContentRepository, DbContentStore
from bot.db.inbox import Inbox
from bot.db.store import SqlStore
from bot.outbound import Outbound
from bot.ratelimit import RateLimits
from bot.settings import Settings

StaffHandler = Callable[[Request, Staff], Awaitable[Response]]


@dataclass(frozen=True)
class AdminDeps:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    repository: ContentRepository
    content: DbContentStore
    # The engine over a draft's content, for the test gate (bot/admin/gate.py).
    engine_for: EngineFor
    retrainer: Retrainer | None
    secret: str
    inbox: Inbox
    outbound: Outbound
    store: SqlStore
    limits: RateLimits | None = None  # shared with the web chat; its own when absent


@dataclass(frozen=True)
class PageContext:
    deps: AdminDeps
    accounts: Accounts
    audit: AuditLog
    limits: RateLimits
    render: Callable[..., Response]

    def allow(self, permission: str, handler: StaffHandler) -> Handler:
        """The page for logged-in staff whose role has `permission`; others are sent away."""
        return requires(self.accounts, permission)(handler)


class PageGroup:
    """One job's staff pages (inbox, content, training...), all reading one PageContext."""

    def __init__(self, ctx: PageContext) -> None:
        self._ctx = ctx
        self._deps = ctx.deps
        self._settings = ctx.deps.settings
        self._render = ctx.render
