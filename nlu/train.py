"""`ventanilla nlu train`: train a Rasa NLU model from `nlu/data/`.

The examples are normalised (accents, case, stretched letters) into a temporary
file first, so the model learns exactly the form the client sends at parse time.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from kernel.translatable import N_, Message
from nlu.server import NLUServerError, rasa_env, rasa_executable
from nlu.training_data import Example, load_examples, write_normalized

# Progress, as the terminal and (translated) the staff pages' retraining show it.
TRAINING = N_("Training on {examples} examples of {intents} intents ...")
STEP = N_("  {step} ({seconds} s)")  # {step}: Rasa's own words for the component
WRITTEN = N_("Model written to {model} in {seconds} s")


class TrainingError(Exception):
    """Training failed; the message holds the tail of Rasa's output."""


def _progress_lines(stream: Iterable[bytes]) -> Iterable[str]:
    """Rasa's progress bars end lines with carriage returns; split on both."""
    buffer = b""
    for chunk in stream:
        buffer += chunk
        while True:
            cut = min((i for i in (buffer.find(b"\n"), buffer.find(b"\r")) if i >= 0), default=-1)
            if cut < 0:
                break
            line, buffer = buffer[:cut], buffer[cut + 1 :]
            if line.strip():
                yield line.decode("utf-8", "replace")
    if buffer.strip():
        yield buffer.decode("utf-8", "replace")


def train_model(
    config: Path,
    out_dir: Path,
    examples: list[Example] | None = None,
    data_dir: Path | None = None,
    name_prefix: str = "nlu",
    report: Callable[[str], None] = print,
) -> Path:
    """Train and return the path of the new `.tar.gz` model in `out_dir`."""
    if examples is None:
        if data_dir is None:
            raise ValueError("give examples or a data_dir")
        examples = load_examples(data_dir)
    if not examples:
        raise TrainingError("no training examples found")
    try:
        rasa = rasa_executable()
    except NLUServerError as exc:
        raise TrainingError(str(exc)) from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S-%f")
    name = f"{name_prefix}-{stamp}"
    out_dir = out_dir.resolve()
    intents = len({e.intent for e in examples})
    report(Message(TRAINING, examples=len(examples), intents=intents))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ventanilla-train-") as tmp:
        data_file = write_normalized(examples, Path(tmp) / "data" / "nlu.yml")
        command = [
            str(rasa),
            "train",
            "nlu",
            "--config",
            str(config.resolve()),
            "--nlu",
            str(data_file),
            "--out",
            str(out_dir),
            "--fixed-model-name",
            name,
        ]
        code, tail = _run_rasa(command, Path(tmp), started, report)
    model = out_dir / f"{name}.tar.gz"
    if code != 0 or not model.exists():
        raise TrainingError("rasa train failed:\n" + "\n".join(tail[-15:]))
    report(Message(WRITTEN, model=str(model), seconds=round(time.monotonic() - started)))
    return model


def _run_rasa(
    command: list[str], cwd: Path, started: float, report: Callable[[str], None]
) -> tuple[int, list[str]]:
    """Run `rasa train`, reporting each component as it starts; the exit code and the
    last lines of its output (for the error message when it fails)."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        # INFO makes Rasa log each component's start and end, our progress lines;
        # training data holds no user messages.
        env=rasa_env(log_level="INFO"),
        cwd=cwd,
    )
    stdout = process.stdout
    assert stdout is not None
    tail: list[str] = []
    for line in _progress_lines(iter(lambda: os.read(stdout.fileno(), 4096), b"")):
        tail = [*tail[-30:], line]
        if "to train component" in line or "training component" in line:
            step = line.split(" - ", 1)[-1].strip()
            report(Message(STEP, step=step[:110], seconds=round(time.monotonic() - started)))
    return process.wait(), tail


if __name__ == "__main__":  # pragma: no cover - manual use
    train_model(Path(sys.argv[1]), Path(sys.argv[2]), data_dir=Path(sys.argv[3]))
