"""A linear intent model over TF-IDF word and character n-grams.

Rasa's DIET needs minutes to train on our few thousand examples and, measured on
held-out folds of our own data, scored no better than a linear classifier over
sublinear TF-IDF features (see README, "NLU evaluation"). This module holds that
model without any Rasa import, so the app's tests can exercise it directly and
the Rasa component in `nlu/components/` stays a thin adapter.

It is saved as plain arrays and JSON (no pickle), so loading a model file can
never run code.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILE = "linear_intent.npz"
META_FILE = "linear_intent.json"


@dataclass(frozen=True)
class Analyzer:
    """One TF-IDF block: which n-grams it counts."""

    kind: str  # "word" or "char_wb", as in scikit-learn
    min_n: int
    max_n: int

    def build(self) -> Callable[[str], list[str]]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(
            analyzer=self.kind, ngram_range=(self.min_n, self.max_n), lowercase=False
        )
        analyze: Callable[[str], list[str]] = vectorizer.build_analyzer()
        return analyze


@dataclass(frozen=True)
class LinearConfig:
    analyzers: tuple[Analyzer, ...] = (Analyzer("word", 1, 2), Analyzer("char_wb", 2, 5))
    c: float = 1.0
    # Softmax temperature over the SVM margins: turns them into scores the engine's
    # thresholds (fallback, safety) can read like probabilities.
    temperature: float = 0.15

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearConfig:
        analyzers = (
            tuple(
                Analyzer(str(a["kind"]), int(a["min_n"]), int(a["max_n"]))
                for a in data.get("analyzers") or []
            )
            or cls.analyzers
        )
        return cls(
            analyzers=analyzers,
            c=float(data.get("c", cls.c)),
            temperature=float(data.get("temperature", cls.temperature)),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "analyzers": [
                {"kind": a.kind, "min_n": a.min_n, "max_n": a.max_n} for a in self.analyzers
            ],
            "c": self.c,
            "temperature": self.temperature,
        }


class _Block:
    """Sublinear TF-IDF with L2 norm for one analyzer, computed the way scikit-learn does."""

    def __init__(self, analyzer: Analyzer, vocabulary: dict[str, int], idf: np.ndarray) -> None:
        self.analyzer = analyzer
        self.vocabulary = vocabulary
        self.idf = idf
        self._analyze = analyzer.build()

    def features(self, text: str) -> dict[int, float]:
        counts = Counter(
            index
            for index in (self.vocabulary.get(gram) for gram in self._analyze(text))
            if index is not None
        )
        weights = {i: (1.0 + math.log(n)) * float(self.idf[i]) for i, n in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {i: w / norm for i, w in weights.items()} if norm else {}


class LinearIntentModel:
    def __init__(
        self,
        config: LinearConfig,
        blocks: list[_Block],
        classes: list[str],
        coef: np.ndarray,
        intercept: np.ndarray,
    ) -> None:
        self.config = config
        self.classes = classes
        self._blocks = blocks
        self._offsets = np.cumsum([0] + [len(b.vocabulary) for b in blocks[:-1]]).tolist()
        self._coef = coef  # shape (n_classes, n_features)
        self._intercept = intercept

    @classmethod
    def train(
        cls, texts: Sequence[str], intents: Sequence[str], config: LinearConfig | None = None
    ) -> LinearIntentModel:
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        config = config or LinearConfig()
        if len(set(intents)) < 2:
            raise ValueError("training needs examples of at least two intents")
        vectorizers = [
            TfidfVectorizer(
                analyzer=a.kind,
                ngram_range=(a.min_n, a.max_n),
                sublinear_tf=True,
                lowercase=False,
            )
            for a in config.analyzers
        ]
        matrix = hstack([v.fit_transform(texts) for v in vectorizers]).tocsr()
        svm = LinearSVC(C=config.c, random_state=0)
        svm.fit(matrix, list(intents))
        blocks = [
            _Block(a, {str(k): int(i) for k, i in v.vocabulary_.items()}, np.asarray(v.idf_))
            for a, v in zip(config.analyzers, vectorizers, strict=True)
        ]
        coef = np.asarray(svm.coef_, dtype=np.float32)
        intercept = np.asarray(svm.intercept_, dtype=np.float32)
        classes = [str(c) for c in svm.classes_]
        if len(classes) == 2:  # binary SVMs keep one row; make it symmetric
            coef = np.vstack([-coef, coef])
            intercept = np.concatenate([-intercept, intercept])
        return cls(config, blocks, classes, coef, intercept)

    def margins(self, text: str) -> np.ndarray:
        columns: list[int] = []
        values: list[float] = []
        for offset, block in zip(self._offsets, self._blocks, strict=True):
            for index, weight in block.features(text).items():
                columns.append(offset + index)
                values.append(weight)
        scores = self._intercept.astype(np.float64).copy()
        if columns:
            scores += self._coef[:, columns].astype(np.float64) @ np.asarray(values)
        return scores

    def rank(self, text: str) -> list[tuple[str, float]]:
        """All intents with a confidence in 0..1, best first."""
        scaled = self.margins(text) / self.config.temperature
        scaled -= scaled.max()
        exp = np.exp(scaled)
        confidences = exp / exp.sum()
        order = np.argsort(-confidences, kind="stable")
        return [(self.classes[i], float(confidences[i])) for i in order]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {"coef": self._coef, "intercept": self._intercept}
        for number, block in enumerate(self._blocks):
            arrays[f"idf_{number}"] = block.idf
        np.savez_compressed(directory / MODEL_FILE, **arrays)  # type: ignore[arg-type]
        meta = {
            "config": self.config.as_dict(),
            "classes": self.classes,
            "vocabularies": [
                sorted(block.vocabulary, key=block.vocabulary.__getitem__) for block in self._blocks
            ],
        }
        (directory / META_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> LinearIntentModel:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        config = LinearConfig.from_dict(meta["config"])
        with np.load(directory / MODEL_FILE, allow_pickle=False) as arrays:
            blocks = [
                _Block(analyzer, {term: i for i, term in enumerate(terms)}, arrays[f"idf_{n}"])
                for n, (analyzer, terms) in enumerate(
                    zip(config.analyzers, meta["vocabularies"], strict=True)
                )
            ]
            return cls(
                config,
                blocks,
                [str(c) for c in meta["classes"]],
                arrays["coef"],
                arrays["intercept"],
            )
