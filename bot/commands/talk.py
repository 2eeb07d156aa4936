"""`ventanilla chat` and `ventanilla ask`: talk to the bot from the terminal."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import TYPE_CHECKING

from bot.commands.common import log_to_file, say
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    chat = sub.add_parser("chat", help="talk to the bot in this terminal (options as numbers)")
    chat.add_argument(
        "--store", action="store_true", help="store the conversation (default: memory only)"
    )
    chat.set_defaults(func=cmd_chat)

    ask = sub.add_parser("ask", help="send one message and print the answer")
    ask.add_argument("text", help='the message; "-" reads one message per line from stdin')
    ask.add_argument("--json", action="store_true", help="print the full result as JSON")
    ask.add_argument("--lang", choices=["es", "en"], help="language to assume when unclear")
    ask.set_defaults(func=cmd_ask)


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot.channels.render import numbered_text
    from bot.composition import core, trial_dispatcher
    from kernel.types import IncomingMessage

    async def work() -> int:
        async with core(settings, say, reuse_nlu=True) as parts:
            # One question from a new person, kept in memory only: trying the bot
            # leaves no conversation, ticket or state behind in the database.
            dispatcher = trial_dispatcher(parts)
            if args.text == "-":
                return await _ask_each_line(dispatcher, args.lang)
            result = await dispatcher.handle(
                IncomingMessage(
                    channel="cli", user_id="cli-ask", text=args.text, language_hint=args.lang
                )
            )
        if args.json:
            print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        else:
            for reply in result.replies:
                print(numbered_text(reply) + "\n")
        return 0

    return asyncio.run(work())


async def _ask_each_line(dispatcher: Dispatcher, language: str | None) -> int:
    """Batch evaluation through the engine: each line of standard input is a new person,
    each answer one JSON object per line, in the same order."""
    from kernel.types import IncomingMessage

    logging.getLogger("bot.dispatcher").setLevel(logging.WARNING)
    for number, line in enumerate(sys.stdin, start=1):
        text = line.rstrip("\n")
        result = await dispatcher.handle(
            IncomingMessage(
                channel="cli", user_id=f"cli-ask-{number}", text=text, language_hint=language
            )
        )
        print(json.dumps(result.as_dict(), ensure_ascii=False), flush=True)
    return 0


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.channels.console import chat_loop
    from bot.composition import core, stored_dispatcher, trial_dispatcher

    log_path = log_to_file(settings)

    async def work() -> int:
        async with core(settings, say, reuse_nlu=True) as parts:
            # `--store` keeps the conversation like a channel would; otherwise, as a trial
            # should, conversations, state and tickets stay in this process.
            dispatcher = stored_dispatcher(parts) if args.store else trial_dispatcher(parts)
            stored = "stored in the database" if args.store else "kept in memory only"
            say(f"Ventanilla console chat ({stored}; log: {log_path}). Ctrl-D to leave.")
            await chat_loop(dispatcher.handle)
        return 0

    return asyncio.run(work())
