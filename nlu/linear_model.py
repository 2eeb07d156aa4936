"""A linear intent model over TF-IDF n-grams and, optionally, a sentence embedding.

Rasa's DIET needs minutes to train on our few thousand examples and, measured on
held-out folds of our own data, scored no better than a linear classifier over
sublinear TF-IDF features (see README, "NLU evaluation"). A multilingual
sentence embedding (`nlu/components/sentence_encoder.py`) appended to those
features as one more unit-length block lifts it on paraphrases, slang and
English (five folds of our own data: 0.876 -> 0.931). The same embedding tells
when a message is far from everything we were trained on: the novelty check
below then puts `out_of_scope` on top instead of a confident wrong topic.

This module holds the model without any Rasa import, so the app's tests can
exercise it directly and the Rasa components in `nlu/components/` stay thin
adapters; embeddings come in as plain arrays. It is saved as plain arrays and
JSON (no pickle), so loading a model file can never run code.
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
    # Scale of the sentence-embedding block next to the unit-length TF-IDF blocks.
    dense_weight: float = 1.0
    # Novelty check: a message whose mean cosine similarity to its `novelty_neighbours`
    # nearest in-scope training examples is below the `novelty_quantile` of the same
    # figure for the training examples themselves (each left out in turn), and whose
    # best topic scores under `novelty_max_confidence`, gets `out_of_scope_intent` on
    # top. The confidence gate halves the in-scope messages the check takes away
    # (five folds of our data). A quantile of 0 turns the check off.
    novelty_quantile: float = 0.005
    novelty_neighbours: int = 3
    novelty_max_confidence: float = 0.9
    out_of_scope_intent: str = "out_of_scope"

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
            dense_weight=float(data.get("dense_weight", cls.dense_weight)),
            novelty_quantile=float(data.get("novelty_quantile", cls.novelty_quantile)),
            novelty_neighbours=int(data.get("novelty_neighbours", cls.novelty_neighbours)),
            novelty_max_confidence=float(
                data.get("novelty_max_confidence", cls.novelty_max_confidence)
            ),
            out_of_scope_intent=str(data.get("out_of_scope_intent", cls.out_of_scope_intent)),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "analyzers": [
                {"kind": a.kind, "min_n": a.min_n, "max_n": a.max_n} for a in self.analyzers
            ],
            "c": self.c,
            "temperature": self.temperature,
            "dense_weight": self.dense_weight,
            "novelty_quantile": self.novelty_quantile,
            "novelty_neighbours": self.novelty_neighbours,
            "novelty_max_confidence": self.novelty_max_confidence,
            "out_of_scope_intent": self.out_of_scope_intent,
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


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.asarray(matrix / np.where(norms > 0, norms, 1.0), dtype=np.float32)


@dataclass(frozen=True)
class Novelty:
    """How far a message may be from our in-scope examples before it counts as out of scope.

    `reference` holds the unit-length embeddings of the in-scope training examples;
    `threshold` was computed at training time (see `LinearConfig.novelty_quantile`).
    """

    reference: np.ndarray  # (n_examples, dim), float32 in memory, float16 in the file
    threshold: float
    neighbours: int

    @classmethod
    def fit(cls, embeddings: np.ndarray, quantile: float, neighbours: int) -> Novelty | None:
        if quantile <= 0 or len(embeddings) <= neighbours:
            return None
        # Stored as float16 in the model file: compute the threshold on what is kept.
        reference = _unit_rows(embeddings).astype(np.float16).astype(np.float32)
        own = np.empty(len(reference))
        for start in range(0, len(reference), 1024):  # bounded memory on large data
            similarities = reference[start : start + 1024] @ reference.T
            rows = np.arange(similarities.shape[0])
            similarities[rows, rows + start] = -np.inf  # each example left out of its neighbours
            own[start : start + 1024] = cls._mean_of_nearest(similarities, neighbours)
        return cls(reference, float(np.quantile(own, quantile)), neighbours)

    @staticmethod
    def _mean_of_nearest(similarities: np.ndarray, neighbours: int) -> np.ndarray:
        k = min(neighbours, similarities.shape[1])
        nearest = np.partition(similarities, -k, axis=1)[:, -k:]
        return np.asarray(nearest.mean(axis=1))

    def closeness(self, embedding: np.ndarray) -> float:
        unit = _unit_rows(embedding.reshape(1, -1))
        similarities = unit @ self.reference.T
        return float(self._mean_of_nearest(similarities, self.neighbours)[0])


class LinearIntentModel:
    def __init__(
        self,
        config: LinearConfig,
        blocks: list[_Block],
        classes: list[str],
        coef: np.ndarray,
        intercept: np.ndarray,
        dense_dim: int = 0,
        novelty: Novelty | None = None,
    ) -> None:
        self.config = config
        self.classes = classes
        self.dense_dim = dense_dim
        self.novelty = novelty
        self._blocks = blocks
        self._offsets = np.cumsum([0] + [len(b.vocabulary) for b in blocks[:-1]]).tolist()
        self._sparse_width = sum(len(b.vocabulary) for b in blocks)
        self._coef = coef  # shape (n_classes, n_sparse_features + dense_dim), as saved
        self._intercept = intercept
        # For parsing: one contiguous row of class weights per n-gram (a message has a
        # few hundred), and the dense block pre-scaled, both in float64.
        self._sparse_rows = np.ascontiguousarray(coef[:, : self._sparse_width].T, dtype=np.float64)
        self._dense_coef = config.dense_weight * np.asarray(
            coef[:, self._sparse_width :], dtype=np.float64
        )

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        intents: Sequence[str],
        config: LinearConfig | None = None,
        embeddings: np.ndarray | None = None,
    ) -> LinearIntentModel:
        """Fit the SVM; `embeddings` (one row per text) adds the sentence-embedding block."""
        from scipy.sparse import csr_matrix, hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        config = config or LinearConfig()
        if len(set(intents)) < 2:
            raise ValueError("training needs examples of at least two intents")
        if embeddings is not None and len(embeddings) != len(texts):
            raise ValueError("one embedding per training text is needed")
        vectorizers = [
            TfidfVectorizer(
                analyzer=a.kind,
                ngram_range=(a.min_n, a.max_n),
                sublinear_tf=True,
                lowercase=False,
            )
            for a in config.analyzers
        ]
        parts = [v.fit_transform(texts) for v in vectorizers]
        dense_dim = 0
        novelty = None
        if embeddings is not None:
            unit = _unit_rows(np.asarray(embeddings, dtype=np.float32))
            dense_dim = unit.shape[1]
            parts.append(csr_matrix(config.dense_weight * unit))
            in_scope = np.asarray([i != config.out_of_scope_intent for i in intents])
            if config.out_of_scope_intent in intents:
                novelty = Novelty.fit(
                    unit[in_scope], config.novelty_quantile, config.novelty_neighbours
                )
        matrix = hstack(parts).tocsr()
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
        return cls(config, blocks, classes, coef, intercept, dense_dim, novelty)

    def _dense(self, embedding: np.ndarray | None) -> np.ndarray | None:
        if not self.dense_dim:
            return None
        if embedding is None:
            raise ValueError("this model was trained with sentence embeddings; give one")
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if vector.shape[0] != self.dense_dim:
            raise ValueError(f"expected an embedding of {self.dense_dim} values")
        unit: np.ndarray = _unit_rows(vector.reshape(1, -1))[0]
        return unit

    def margins(self, text: str, embedding: np.ndarray | None = None) -> np.ndarray:
        columns: list[int] = []
        values: list[float] = []
        for offset, block in zip(self._offsets, self._blocks, strict=True):
            for index, weight in block.features(text).items():
                columns.append(offset + index)
                values.append(weight)
        scores = self._intercept.astype(np.float64)
        if columns:
            scores += np.asarray(values) @ self._sparse_rows[columns]
        dense = self._dense(embedding)
        if dense is not None:
            scores += self._dense_coef @ dense.astype(np.float64)
        return scores

    def is_novel(self, embedding: np.ndarray | None) -> bool:
        """True when the text is farther from our in-scope examples than the threshold."""
        if self.novelty is None or embedding is None:
            return False
        return self.novelty.closeness(np.asarray(embedding, dtype=np.float32)) < (
            self.novelty.threshold
        )

    def rank(self, text: str, embedding: np.ndarray | None = None) -> list[tuple[str, float]]:
        """All intents with a confidence in 0..1, best first.

        When the novelty check fires, `out_of_scope` moves to the top with the best
        confidence; every other intent keeps its own, so the engine's safety rule
        still sees a danger intent anywhere in the ranking.
        """
        scaled = self.margins(text, embedding) / self.config.temperature
        scaled -= scaled.max()
        exp = np.exp(scaled)
        confidences = exp / exp.sum()
        unsure = confidences.max() < self.config.novelty_max_confidence
        if unsure and self.config.out_of_scope_intent in self.classes and self.is_novel(embedding):
            index = self.classes.index(self.config.out_of_scope_intent)
            confidences[index] = confidences.max()
            others = [i for i in np.argsort(-confidences, kind="stable") if i != index]
            order = [index, *others]
        else:
            order = list(np.argsort(-confidences, kind="stable"))
        return [(self.classes[i], float(confidences[i])) for i in order]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {"coef": self._coef, "intercept": self._intercept}
        for number, block in enumerate(self._blocks):
            arrays[f"idf_{number}"] = block.idf
        if self.novelty is not None:
            arrays["novelty_reference"] = self.novelty.reference.astype(np.float16)
        np.savez_compressed(directory / MODEL_FILE, **arrays)  # type: ignore[arg-type]
        meta = {
            "config": self.config.as_dict(),
            "classes": self.classes,
            "dense_dim": self.dense_dim,
            "novelty_threshold": None if self.novelty is None else self.novelty.threshold,
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
            threshold = meta.get("novelty_threshold")
            novelty = (
                Novelty(
                    arrays["novelty_reference"].astype(np.float32),
                    float(threshold),
                    config.novelty_neighbours,
                )
                if threshold is not None
                else None
            )
            return cls(
                config,
                blocks,
                [str(c) for c in meta["classes"]],
                arrays["coef"],
                arrays["intercept"],
                int(meta.get("dense_dim", 0)),
                novelty,
            )
