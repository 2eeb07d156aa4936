"""A reproducible held-out split of the training data, stratified by intent and language.

Used to compare pipelines and to judge a retrained model without touching any
evaluation set kept outside the project.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from nlu.training_data import Example


def split(
    examples: Sequence[Example], fraction: float = 0.2, seed: int = 13
) -> tuple[list[Example], list[Example]]:
    groups: dict[tuple[str, str], list[Example]] = defaultdict(list)
    for example in examples:
        groups[(example.intent, example.language)].append(example)
    rng = random.Random(seed)
    train: list[Example] = []
    held: list[Example] = []
    for key in sorted(groups):
        items = list(groups[key])
        rng.shuffle(items)
        cut = round(len(items) * fraction)
        held.extend(items[:cut])
        train.extend(items[cut:])
    return train, held
