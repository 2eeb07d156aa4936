"""What every group of staff pages needs: rendering, accounts, audit, dependencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.responses import Response

from bot.admin.accounts import Accounts, AuditLog

if TYPE_CHECKING:
    from bot.admin.app import AdminDeps


@dataclass(frozen=True)
class PageContext:
    deps: AdminDeps
    accounts: Accounts
    audit: AuditLog
    render: Callable[..., Response]
