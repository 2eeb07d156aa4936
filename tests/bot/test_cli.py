"""The `ventanilla` command as a person runs it: a subprocess, real output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_run_with_an_unreachable_database_says_so_in_one_line(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://ventanilla:hunter2@127.0.0.1:{free_port()}/ventanilla"
    env = {
        **os.environ,
        "DATABASE_URL": url + "?connect_timeout=2",
        "VENTANILLA_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--workers", "2"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2
    assert "error: cannot use the database postgresql+psycopg://ventanilla:***@127.0.0.1" in output
    assert "hunter2" not in output  # the password never reaches the terminal or a log
    assert "Traceback" not in output


def test_help_lists_every_command_with_one_line() -> None:
    from bot.cli import _commands, build_parser

    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--help"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    commands = _commands(build_parser())
    names = [name for name, _help in commands]
    assert {"run", "chat", "ask", "nlu train", "nlu eval", "content check", "db upgrade"} <= set(
        names
    )
    lines = done.stdout.splitlines()
    for name, text in commands:
        assert text, f"{name} has no help line"
        matching = [line for line in lines if line.split(text)[0].strip() == name]
        assert len(matching) == 1, f"{name!r} is not listed once with its help:\n{done.stdout}"


def test_production_refuses_weak_secrets(tmp_path: Path) -> None:
    from bot.settings import load_settings, production_secret_problems

    def problems(**env: str) -> list[str]:
        base = {"VENTANILLA_MODE": "production", "VENTANILLA_DATA_DIR": str(tmp_path)}
        return production_secret_problems(load_settings(env={**base, **env}))

    strong = "Xq3-vT9_pLm2Rz8KwY4nHc6Bj0Fd5Gs1AeUo7Ii"
    assert problems(VENTANILLA_SECRET_KEY=strong) == []
    assert problems() and "VENTANILLA_SECRET_KEY is not set" in problems()[0]
    low_variety = problems(VENTANILLA_SECRET_KEY="a" * 32)
    assert len(low_variety) == 1 and "different characters" in low_variety[0]
    short_webhook = problems(
        VENTANILLA_SECRET_KEY=strong, TELEGRAM_BOT_TOKEN="1:A", TELEGRAM_WEBHOOK_SECRET="x"
    )
    assert len(short_webhook) == 1
    assert "TELEGRAM_WEBHOOK_SECRET has 1 characters" in short_webhook[0]
    assert problems(VENTANILLA_SECRET_KEY=strong, METRICS_TOKEN="short")
    # Development keeps working with test values.
    dev = load_settings(env={"VENTANILLA_DATA_DIR": str(tmp_path), "TELEGRAM_WEBHOOK_SECRET": "x"})
    assert production_secret_problems(dev) == []


def test_run_in_production_with_a_weak_key_is_one_clear_line(tmp_path: Path) -> None:
    from bot.settings import PROJECT_ROOT

    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "VENTANILLA_MODE": "production",
        "VENTANILLA_DATA_DIR": str(tmp_path),
        "VENTANILLA_SECRET_KEY": "a" * 32,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 2
    assert "VENTANILLA_SECRET_KEY uses only 1 different characters" in done.stderr + done.stdout
