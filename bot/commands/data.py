"""`ventanilla db upgrade` and `ventanilla data purge|delete-user`: schema, retention, erasure."""

from __future__ import annotations

import argparse
import asyncio

from bot.commands.common import say
from bot.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    database = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    database.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    data = sub.add_parser("data", help="retention and erasure").add_subparsers(
        dest="data_command", required=True
    )
    data.add_parser("purge", help="delete message texts past retention_days").set_defaults(
        func=cmd_data_purge
    )
    delete_user = data.add_parser("delete-user", help="erase everything about one user")
    delete_user.add_argument("--channel", required=True, help="telegram, whatsapp, web, ...")
    delete_user.add_argument("user_id", help="the chat id or phone number (whatsapp:+503...)")
    delete_user.set_defaults(func=cmd_data_delete_user)


def cmd_db_upgrade(settings: Settings, _: argparse.Namespace) -> int:
    from bot.db.engine import upgrade

    upgrade(settings.database_url)
    say("database is at the latest schema")
    return 0


def cmd_data_purge(settings: Settings, _: argparse.Namespace) -> int:
    from bot.composition import storage

    async def purge() -> int:
        async with storage(settings) as (store, _engine, _protector):
            result = await store.purge(settings.retention_days)
        print(
            f"purged {result.messages_deleted} messages older than {settings.retention_days} days"
            f" (counts kept for {result.counted_days} days);"
            f" {result.processed_ids_deleted} old message ids forgotten"
        )
        return 0

    return asyncio.run(purge())


def cmd_data_delete_user(settings: Settings, args: argparse.Namespace) -> int:
    from bot.composition import storage

    async def forget() -> int:
        async with storage(settings) as (store, _engine, _protector):
            await store.forget(args.channel, args.user_id)
        print(f"everything stored about that {args.channel} user has been erased")
        return 0

    return asyncio.run(forget())
