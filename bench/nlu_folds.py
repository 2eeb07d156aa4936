"""Five-fold cross-validation of intent-model settings on our own training data (run by hand).

    .venv/bin/python -m bench.nlu_folds                      # the settings in nlu/config.yml
    .venv/bin/python -m bench.nlu_folds dense_weight=0 c=2   # one variant per argument

Folds are stratified by intent and language; no Rasa process runs (the sentence
embeddings are computed once, in the Rasa venv, by `bench.embed`), so settings
of `nlu/linear_model.py` can be compared in a minute or two. For each variant:
accuracy (mean ± sd over folds); out-of-scope precision and recall when only an
`out_of_scope` answer counts, and when an answer under the engine's fallback
threshold counts too (both mean "I can't answer that here"); and how many
in-scope messages the novelty check alone sent to out_of_scope.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from bench.embed import embed
from kernel.normalize import normalize_text
from nlu.evaluate import Baseline
from nlu.linear_model import LinearConfig, LinearIntentModel
from nlu.training_data import Example, load_examples

OUT_OF_SCOPE = "out_of_scope"


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


@dataclass
class Tally:
    fallback: float  # the engine's threshold: under it, the answer is "I can't answer that"
    accuracies: list[float] = field(default_factory=list)
    by_language: dict[str, list[bool]] = field(default_factory=dict)
    oos: list[tuple[bool, bool]] = field(default_factory=list)  # (gold, answered out_of_scope)
    dont_know: list[tuple[bool, bool]] = field(default_factory=list)  # ... or under fallback
    novel_in_scope: int = 0
    in_scope: int = 0

    def add(self, held: Sequence[Example], ranked: list[list[tuple[str, float]]]) -> None:
        hits = [r[0][0] == e.intent for r, e in zip(ranked, held, strict=True)]
        self.accuracies.append(sum(hits) / len(held))
        for hit, example in zip(hits, held, strict=True):
            self.by_language.setdefault(example.language, []).append(hit)
        for r, example in zip(ranked, held, strict=True):
            gold = example.intent == OUT_OF_SCOPE
            self.oos.append((gold, r[0][0] == OUT_OF_SCOPE))
            self.dont_know.append((gold, r[0][0] == OUT_OF_SCOPE or r[0][1] < self.fallback))

    def line(self, name: str) -> str:
        languages = "  ".join(
            f"{language} {sum(h) / len(h):.3f}" for language, h in sorted(self.by_language.items())
        )
        novel = ""
        if self.in_scope:
            novel = f"  novelty->oos {self.novel_in_scope}/{self.in_scope} in-scope"
        return (
            f"{name:34} acc {statistics.mean(self.accuracies):.3f}"
            f" ± {statistics.stdev(self.accuracies):.3f} ({languages})"
            f"  OOS P/R {_pr(self.oos)}  +fallback {_pr(self.dont_know)}{novel}"
        )


def _pr(pairs: list[tuple[bool, bool]]) -> str:
    tp = sum(g and p for g, p in pairs)
    predicted = sum(p for _, p in pairs)
    gold = sum(g for g, _ in pairs)
    return f"{tp / predicted if predicted else 0:.3f}/{tp / gold if gold else 0:.3f}"


def _pipeline_config(path: Path) -> tuple[dict[str, object], bool]:
    pipeline = yaml.safe_load(path.read_text(encoding="utf-8"))["pipeline"]
    dense = any(str(c["name"]).endswith("SentenceEncoderFeaturizer") for c in pipeline)
    for component in pipeline:
        if str(component["name"]).endswith("LinearIntentClassifier"):
            return {k: v for k, v in component.items() if k != "name"}, dense
    raise SystemExit(f"no LinearIntentClassifier in {path}")


def _fallback_threshold() -> float:
    config = yaml.safe_load(Path("config.yml").read_text(encoding="utf-8"))
    return float(config["nlu"]["fallback_threshold"])


def main(variants: list[str]) -> None:
    examples = load_examples(Path("nlu/data"))
    texts = {normalize_text(e.text) for e in examples}
    settings, dense = _pipeline_config(Path("nlu/config.yml"))
    base = LinearConfig.from_dict(settings)
    vectors: dict[str, np.ndarray] = {}
    if dense or variants:
        ordered = sorted(texts)
        vectors = dict(zip(ordered, embed(ordered), strict=True))
    splits = folds(examples)
    fallback = _fallback_threshold()
    print(f"{len(examples)} examples, {len(splits)} folds, fallback threshold {fallback}")

    tally = Tally(fallback)
    for train, held in splits:
        predict = Baseline(train).predict([e.text for e in held])
        tally.add(held, [[(p, 1.0)] for p in predict])
    print(tally.line("baseline (TF-IDF + logistic reg.)"), flush=True)

    rows: list[tuple[str, LinearConfig, bool]] = [
        ("TF-IDF SVM (no embedding)", base, False),
        ("nlu/config.yml", base, dense),
    ]
    for variant in variants:
        changes = dict(item.split("=", 1) for item in variant.split(","))
        config = LinearConfig.from_dict({**base.as_dict(), **changes})
        rows.append((variant, config, config.dense_weight > 0))
    for name, config, with_vectors in rows:
        tally = Tally(fallback)
        for train, held in splits:
            train_texts = [normalize_text(e.text) for e in train]
            held_texts = [normalize_text(e.text) for e in held]
            train_vectors = np.vstack([vectors[t] for t in train_texts]) if with_vectors else None
            model = LinearIntentModel.train(
                train_texts, [e.intent for e in train], config, train_vectors
            )
            ranked = []
            for text, example in zip(held_texts, held, strict=True):
                vector = vectors[text] if with_vectors else None
                ranked.append(model.rank(text, vector))
                if example.intent != OUT_OF_SCOPE:
                    tally.in_scope += int(with_vectors and model.novelty is not None)
                    tally.novel_in_scope += int(model.is_novel(vector))
            tally.add(held, ranked)
        print(tally.line(name), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
