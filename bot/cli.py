"""The `ventanilla` command: the bot, its NLU model, content, staff accounts and data."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.commands import accounts, content, data, nlu, serve, talk
from bot.commands.common import configure_logging, say
from bot.settings import SettingsError, load_settings

# In the order `ventanilla --help` lists them.
GROUPS = (serve, talk, nlu, accounts, data, content)


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[tuple[str, str]]:
    """Every runnable command under `parser`, with its one-line help."""
    found: list[tuple[str, str]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, child in action.choices.items():
                nested = _commands(child, f"{prefix}{name} ")
                found.extend(nested or [(f"{prefix}{name}", helps.get(name, ""))])
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ventanilla",
        usage="ventanilla [--verbose] COMMAND ...",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--verbose", action="store_true", help="debug logging (never user text)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="one of:")
    for group in GROUPS:
        group.register(sub)
    commands = _commands(parser)
    width = max(len(name) for name, _help in commands) + 2
    parser.epilog = (
        "commands:\n"
        + "\n".join(f"  {name:<{width}}{text}" for name, text in commands)
        + "\n\n`ventanilla COMMAND --help` gives each command's options."
    )
    sub.help = argparse.SUPPRESS
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        settings = load_settings()
    except SettingsError as exc:
        say(f"error: {exc}")
        return 2
    try:
        return int(args.func(settings, args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
