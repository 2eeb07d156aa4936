"""What every group of staff pages needs: rendering, accounts, audit, dependencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from bot.admin.accounts import Accounts, AuditLog, Staff

if TYPE_CHECKING:
    from bot.admin.app import AdminDeps

Render = Callable[..., Response]


@dataclass(frozen=True)
class PageContext:
    deps: AdminDeps
    accounts: Accounts
    audit: AuditLog
    render: Callable[..., Response]


__all__ = ["Any", "PageContext", "Request", "Staff"]
