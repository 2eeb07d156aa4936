"""`ventanilla admin create-user|set-password`: staff accounts."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.commands.common import say
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.admin.accounts import Accounts


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = sub.add_parser("admin", help="staff accounts").add_subparsers(
        dest="admin_command", required=True
    )
    create_user = admin.add_parser("create-user", help="create a staff account (asks the password)")
    create_user.add_argument("email")
    create_user.add_argument("--role", choices=["editor", "agent", "viewer"], default="viewer")
    create_user.set_defaults(func=cmd_admin_create_user)
    set_password = admin.add_parser(
        "set-password", help="change a staff password (ends that account's sessions)"
    )
    set_password.add_argument("email")
    set_password.set_defaults(func=cmd_admin_set_password)


def _new_password(prompt: str) -> str | None:
    """The password typed twice, or None (said why) when the two differ."""
    import getpass

    password = getpass.getpass(prompt)
    if password != getpass.getpass("Repeat the password: "):
        say("error: the passwords differ")
        return None
    return password


def _with_accounts(settings: Settings, change: Callable[[Accounts], Awaitable[str]]) -> int:
    """Run one account change against the configured database; print what it says, or
    the refusal (unknown account, weak password...) as an error."""
    from bot.admin.accounts import AccountError, Accounts
    from bot.composition import storage
    from bot.db.engine import sessions

    async def work() -> int:
        async with storage(settings) as (_store, engine, _protector):
            try:
                done = await change(Accounts(sessions(engine)))
            except AccountError as exc:
                say(f"error: {exc}")
                return 1
        print(done)
        return 0

    return asyncio.run(work())


def cmd_admin_set_password(settings: Settings, args: argparse.Namespace) -> int:
    """A new password; every open session of the account ends with it."""
    password = _new_password(f"New password for {args.email}: ")
    if password is None:
        return 1

    async def change(accounts: Accounts) -> str:
        await accounts.set_password(args.email, password)
        return f"password changed for {args.email}; its sessions have ended"

    return _with_accounts(settings, change)


def cmd_admin_create_user(settings: Settings, args: argparse.Namespace) -> int:
    from bot.admin.accounts import Role

    password = _new_password(f"Password for {args.email}: ")
    if password is None:
        return 1

    async def change(accounts: Accounts) -> str:
        staff = await accounts.create(args.email, password, Role(args.role))
        return f"created {staff.email} ({staff.role.value})"

    return _with_accounts(settings, change)
