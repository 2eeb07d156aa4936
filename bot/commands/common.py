"""What every command shares: messages to the terminal and log set-up."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from bot.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FILE = "ventanilla.log"


def say(message: str) -> None:
    """A line for the person at the terminal (standard error: standard output is data)."""
    print(message, file=sys.stderr, flush=True)


def configure_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format=LOG_FORMAT, stream=sys.stderr
    )
    # httpx logs request URLs, which carry bot tokens and the NLU token.
    for noisy in ("httpx", "httpcore", "telegram.ext.ExtBot", "twilio.http_client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Alembic announces each of its plugins at start-up; migrations still log.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def log_to_file(settings: Settings) -> Path:
    """Send log lines to the data folder's log file instead of the terminal (for `chat`)."""
    path = settings.data_dir / LOG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    return path
