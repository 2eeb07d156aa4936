"""Read the word lists and training texts that the kernel's text rules are built from.

The kernel stays standard-library only; reading YAML files is the app's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from kernel.commands import Commands
from kernel.language import LanguageDetector
from kernel.text_guard import Vocabulary
from nlu.training_data import FAST_SAFE_LOADER, load_examples


@dataclass(frozen=True)
class TextResources:
    detector: LanguageDetector
    vocabulary: Vocabulary
    commands: Commands


def load_commands(path: Path) -> Commands:
    return Commands.from_mapping(yaml.safe_load(path.read_text(encoding="utf-8")))


def load_text_resources(
    data_dir: Path, nlu_dir: Path, languages: tuple[str, ...]
) -> TextResources:
    """Everything the dispatcher needs from the training data and the word lists."""
    examples = load_examples(data_dir)
    markers = yaml.load(
        (nlu_dir / "language_markers.yml").read_text(encoding="utf-8"), Loader=FAST_SAFE_LOADER
    )
    return TextResources(
        detector=LanguageDetector.from_examples(
            markers, languages, ((e.language, e.text) for e in examples)
        ),
        vocabulary=Vocabulary.from_texts(e.text for e in examples),
        commands=load_commands(nlu_dir / "commands.yml"),
    )
