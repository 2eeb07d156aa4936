"""`ventanilla nlu train` and `ventanilla nlu eval`."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.commands.common import say
from bot.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    nlu = sub.add_parser("nlu", help="train or evaluate the NLU model").add_subparsers(
        dest="nlu_command", required=True
    )
    train = nlu.add_parser("train", help="train a model from nlu/data into nlu/models")
    train.set_defaults(func=cmd_nlu_train)
    evaluate = nlu.add_parser("eval", help="evaluate the served model on a JSONL file")
    evaluate.add_argument("file")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.set_defaults(func=cmd_nlu_eval)


def cmd_nlu_train(settings: Settings, args: argparse.Namespace) -> int:
    from nlu.freshness import train_recorded
    from nlu.train import TrainingError

    nlu = settings.nlu
    try:
        train_recorded(nlu.config, nlu.models_dir, nlu.data_dir, say)
    except TrainingError as exc:
        say(f"error: {exc}")
        return 1
    return 0


def cmd_nlu_eval(settings: Settings, args: argparse.Namespace) -> int:
    from bot.evaluation import run_eval

    return asyncio.run(run_eval(settings, Path(args.file), args.json, say))
