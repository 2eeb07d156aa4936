"""Whether the served model is up to date with its training inputs, and training one if not.

A model records a hash of what it was trained from (the pipeline and every
training file) next to itself, so a fresh checkout, whose file times say
nothing, does not retrain an identical model. Plain paths in, so the app and
the scripts can both ask without sharing a settings type.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from nlu.server import newest_model
from nlu.train import train_model


def inputs_fingerprint(data_dir: Path, config: Path) -> str:
    """A hash of what a model is trained from: the pipeline and every training file."""
    digest = hashlib.sha256(config.read_bytes())
    for path in sorted(data_dir.rglob("*.yml")):
        digest.update(str(path.relative_to(data_dir)).encode() + b"\x00" + path.read_bytes())
    return digest.hexdigest()


def _fingerprint_file(model: Path) -> Path:
    return model.with_name(model.name + ".inputs")


def model_is_stale(model: Path | None, data_dir: Path, config: Path) -> bool:
    """Stale when the training inputs differ from the model's; by content when the model
    records them (a fresh checkout's file times say nothing), else by modification time."""
    if model is None:
        return True
    recorded = _fingerprint_file(model)
    if recorded.exists():
        return recorded.read_text().strip() != inputs_fingerprint(data_dir, config)
    newest_input = max(
        [config.stat().st_mtime, *(p.stat().st_mtime for p in data_dir.rglob("*.yml"))]
    )
    return newest_input > model.stat().st_mtime


def served_model_is_stale(models_dir: Path, data_dir: Path, config: Path) -> bool:
    return model_is_stale(newest_model(models_dir), data_dir, config)


def train_recorded(
    config: Path, models_dir: Path, data_dir: Path, report: Callable[[str], None]
) -> Path:
    """Train, and record what the model was trained from (see `model_is_stale`)."""
    fingerprint = inputs_fingerprint(data_dir, config)
    model = train_model(config, models_dir, data_dir=data_dir, report=report)
    _fingerprint_file(model).write_text(fingerprint + "\n")
    return model


def ensure_model(
    config: Path, models_dir: Path, data_dir: Path, report: Callable[[str], None]
) -> Path:
    """The newest model; trains one first when there is none or the data changed since."""
    model = newest_model(models_dir)
    if model is not None and not model_is_stale(model, data_dir, config):
        return model
    report("No up-to-date NLU model: training one (a few seconds) ...")
    return train_recorded(config, models_dir, data_dir, report)
