"""`ventanilla nlu eval FILE.jsonl`: how well the served model classifies held-out messages.

Reports accuracy overall and per language, per-intent precision/recall/F1, the
most confused pairs, and the same figures for a TF-IDF + logistic-regression
baseline trained on the same training data, so a number always has a yardstick.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kernel.normalize import normalize_text
from nlu.training_data import Example


@dataclass(frozen=True)
class Labelled:
    text: str
    language: str
    intent: str
    style: str = ""


def read_jsonl(path: Path) -> list[Labelled]:
    items: list[Labelled] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            items.append(
                Labelled(
                    str(data["text"]),
                    str(data.get("lang", "und")),
                    str(data["intent"]),
                    str(data.get("style", "")),
                )
            )
        except (json.JSONDecodeError, KeyError) as exc:
            raise ValueError(f"{path}:{number}: expected {{text, lang, intent}}: {exc}") from exc
    return items


@dataclass
class IntentScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    name: str
    accuracy: float
    accuracy_by_language: dict[str, float]
    accuracy_by_style: dict[str, float]
    per_intent: dict[str, IntentScore]
    confused: list[tuple[str, str, int]]
    macro_f1: float
    predictions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "accuracy": round(self.accuracy, 4),
            "accuracy_by_language": {k: round(v, 4) for k, v in self.accuracy_by_language.items()},
            "accuracy_by_style": {k: round(v, 4) for k, v in self.accuracy_by_style.items()},
            "macro_f1": round(self.macro_f1, 4),
            "per_intent": {
                k: {
                    "precision": round(v.precision, 4),
                    "recall": round(v.recall, 4),
                    "f1": round(v.f1, 4),
                    "support": v.support,
                }
                for k, v in self.per_intent.items()
            },
            "confused": [{"gold": g, "predicted": p, "count": c} for g, p, c in self.confused],
        }


def score(name: str, items: Sequence[Labelled], predictions: Sequence[str]) -> Report:
    gold = [item.intent for item in items]
    correct = [g == p for g, p in zip(gold, predictions, strict=True)]
    by_language: dict[str, list[bool]] = {}
    by_style: dict[str, list[bool]] = {}
    for item, ok in zip(items, correct, strict=True):
        by_language.setdefault(item.language, []).append(ok)
        if item.style:
            by_style.setdefault(item.style, []).append(ok)
    per_intent: dict[str, IntentScore] = {}
    for intent in sorted(set(gold)):
        tp = sum(1 for g, p in zip(gold, predictions, strict=True) if g == p == intent)
        predicted = sum(1 for p in predictions if p == intent)
        support = sum(1 for g in gold if g == intent)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[intent] = IntentScore(precision, recall, f1, support)
    confusion = Counter((g, p) for g, p in zip(gold, predictions, strict=True) if g != p)
    return Report(
        name=name,
        accuracy=sum(correct) / len(correct) if correct else 0.0,
        accuracy_by_language={k: sum(v) / len(v) for k, v in sorted(by_language.items())},
        accuracy_by_style={k: sum(v) / len(v) for k, v in sorted(by_style.items())},
        per_intent=per_intent,
        confused=[(g, p, c) for (g, p), c in confusion.most_common(10)],
        macro_f1=sum(s.f1 for s in per_intent.values()) / len(per_intent) if per_intent else 0.0,
        predictions=list(predictions),
    )


class Baseline:
    """TF-IDF over words and character n-grams + logistic regression."""

    def __init__(self, examples: Sequence[Example]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        self._model = make_pipeline(
            make_union(
                TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True),
            ),
            LogisticRegression(max_iter=2000, C=10.0),
        )
        self._model.fit([normalize_text(e.text) for e in examples], [e.intent for e in examples])

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [str(p) for p in self._model.predict([normalize_text(t) for t in texts])]


def format_side_by_side(reports: Sequence[Report], footer: str | None = None) -> str:
    """The first report in detail; the others as columns to compare it with."""
    main = reports[0]
    lines = [f"{'':32}" + "".join(f"{r.name:>12}" for r in reports)]
    lines.append(f"{'accuracy':32}" + "".join(f"{r.accuracy:>12.3f}" for r in reports))
    lines.append(f"{'macro F1':32}" + "".join(f"{r.macro_f1:>12.3f}" for r in reports))
    for group, label in (("accuracy_by_language", "lang"), ("accuracy_by_style", "style")):
        for name in getattr(main, group):
            lines.append(
                f"{'accuracy (' + label + ' ' + name + ')':32}"
                + "".join(f"{getattr(r, group).get(name, 0.0):>12.3f}" for r in reports)
            )
    lines.append("")
    others = "".join(f"{r.name + ' F1':>14}" for r in reports[1:])
    lines.append(f"{'intent':28}{'P':>7}{'R':>7}{'F1':>7}{'n':>5} {others}")
    for intent, s in main.per_intent.items():
        lines.append(
            f"{intent:28}{s.precision:>7.2f}{s.recall:>7.2f}{s.f1:>7.2f}{s.support:>5} "
            + "".join(f"{r.per_intent[intent].f1:>14.2f}" for r in reports[1:])
        )
    lines.append("")
    lines.append(f"Most confused pairs ({main.name}): gold -> predicted")
    for gold, predicted, count in main.confused:
        lines.append(f"  {count:>3}  {gold} -> {predicted}")
    if footer:
        lines.append("")
        lines.append(footer)
    return "\n".join(lines)
