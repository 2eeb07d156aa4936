"""Five-fold cross-validation of the linear intent model against the baseline (run by hand).

    .venv/bin/python -m bench.nlu_folds

Uses only our own training data, stratified by intent and language, and no Rasa
process, so settings of `nlu/linear_model.py` can be compared in a minute.
"""

from __future__ import annotations

import functools
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from nlu.evaluate import Baseline
from nlu.linear_model import LinearConfig, LinearIntentModel
from nlu.normalize import normalize_text
from nlu.training_data import Example, load_examples


def folds(examples: Sequence[Example], k: int = 5) -> list[tuple[list[Example], list[Example]]]:
    groups: dict[tuple[str, str], list[Example]] = {}
    for example in examples:
        groups.setdefault((example.intent, example.language), []).append(example)
    assignment: dict[int, int] = {}
    for key in sorted(groups):
        for position, example in enumerate(groups[key]):
            assignment[id(example)] = position % k
    return [
        (
            [e for e in examples if assignment[id(e)] != fold],
            [e for e in examples if assignment[id(e)] == fold],
        )
        for fold in range(k)
    ]


def accuracy(predict: Callable[[list[str]], list[str]], held: Sequence[Example]) -> float:
    predictions = predict([e.text for e in held])
    return sum(p == e.intent for p, e in zip(predictions, held, strict=True)) / len(held)


def linear(train: Sequence[Example], config: LinearConfig) -> Callable[[list[str]], list[str]]:
    model = LinearIntentModel.train(
        [normalize_text(e.text) for e in train], [e.intent for e in train], config
    )
    return lambda texts: [model.rank(normalize_text(t))[0][0] for t in texts]


def _linear_with_c(c: float, train: Sequence[Example]) -> Callable[[list[str]], list[str]]:
    return linear(train, LinearConfig(c=c))


def main(c_values: list[float]) -> None:
    examples = load_examples(Path("nlu/data"))
    splits = folds(examples)
    print(f"{len(examples)} examples, {len(splits)} folds")
    rows: list[tuple[str, Callable[[Sequence[Example]], Callable[[list[str]], list[str]]]]] = [
        ("baseline (TF-IDF + logistic regression)", lambda t: Baseline(t).predict)
    ]
    for c in c_values:
        rows.append((f"linear SVM C={c}", functools.partial(_linear_with_c, c)))
    for name, build in rows:
        scores = [accuracy(build(train), held) for train, held in splits]
        print(
            f"{name:42} acc {statistics.mean(scores):.3f} ± {statistics.stdev(scores):.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [1.0])
