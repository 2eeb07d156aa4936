"""A served model is retrained only when what it was trained from changed."""

from __future__ import annotations

import os
from pathlib import Path

from nlu.freshness import _fingerprint_file, inputs_fingerprint, model_is_stale


def _inputs(tmp_path: Path) -> tuple[Path, Path, Path]:
    data, config = tmp_path / "data", tmp_path / "config.yml"
    data.mkdir()
    (data / "nlu.yml").write_text("- intent: greet\n  examples: |\n    - hola\n")
    config.write_text("pipeline: []\n")
    model = tmp_path / "nlu-1.tar.gz"
    model.write_bytes(b"model")
    return data, config, model


def test_a_fresh_checkout_does_not_retrain_an_identical_model(tmp_path: Path) -> None:
    data, config, model = _inputs(tmp_path)
    _fingerprint_file(model).write_text(inputs_fingerprint(data, config) + "\n")
    later = model.stat().st_mtime + 3600
    os.utime(data / "nlu.yml", (later, later))  # git checkout: newer file, same content
    assert not model_is_stale(model, data, config)
    (data / "nlu.yml").write_text("- intent: greet\n  examples: |\n    - hola\n    - buenas\n")
    assert model_is_stale(model, data, config)


def test_a_model_without_a_record_falls_back_to_file_times(tmp_path: Path) -> None:
    data, config, model = _inputs(tmp_path)
    earlier = model.stat().st_mtime - 3600
    for path in (data / "nlu.yml", config):
        os.utime(path, (earlier, earlier))
    assert not model_is_stale(model, data, config)
    os.utime(data / "nlu.yml", (earlier + 7200, earlier + 7200))
    assert model_is_stale(model, data, config)
    assert model_is_stale(None, data, config)
