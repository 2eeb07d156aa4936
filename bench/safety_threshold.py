"""Choose `nlu.safety_threshold` on our own held-out data (run by hand).

    .venv/bin/python -m bench.safety_threshold                 # thresholds 0.1 .. 0.6
    .venv/bin/python -m bench.safety_threshold 0.15 0.3 0.45   # these thresholds only

The safety rule (handlers/safety.py) sends a message to the emergency or crisis
answer when a curated danger phrase matches, or when `trafficking_emergency` or
`self_harm` scores at or above the threshold anywhere in the whole text's
ranking, or is the best reading of one of its sentences. The threshold was set
for an earlier TF-IDF model whose scores spread differently; this script
re-chooses it for the model in nlu/config.yml without looking at any external
evaluation set:

- five stratified folds of nlu/data (bench/nlu_folds.py): every example is
  scored by a model that never saw it;
- danger recall over the held-out `trafficking_emergency` and `self_harm`
  examples, and over own-written danger messages in real-message styles
  (bench/safety_messages.yml, never training data);
- false alarms over the held-out examples of every other intent (per intent for
  the calm topics closest to danger), and over own-written hard negatives in
  bench/safety_messages.yml: figurative speech, news, a danger already over,
  asylum because of past threats. Those are scored by each fold's model.

Figures are printed for the model alone and for the model with the phrase lists
(what the engine does). A missed danger costs more than a false alarm: pick the
highest threshold that keeps recall where it is at the lowest one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from bench.embed import embed
from bench.nlu_folds import _pipeline_config, folds
from bot.content import FileContentStore
from handlers.needs import sentences
from handlers.safety import EMERGENCY_KEY, SELF_HARM_KEY, DangerMatcher
from nlu.linear_model import LinearConfig, LinearIntentModel
from nlu.normalize import normalize_text
from nlu.training_data import load_examples

DANGER_INTENTS = frozenset({EMERGENCY_KEY, SELF_HARM_KEY})
# Calm topics whose words are closest to danger: their false alarms are shown apart.
NEAR_DANGER = ("asylum", "psychosocial_support", "child_protection", "missing_person", "rights")
DEFAULT_THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)
MESSAGES = Path(__file__).with_name("safety_messages.yml")

Ranking = list[tuple[str, float]]


@dataclass(frozen=True)
class Scored:
    """One held-out text: its gold group, the whole text's ranking, its sentences' best readings."""

    group: str  # an intent of nlu/data, or "own danger" / "own hard negative"
    danger: bool
    phrase: bool  # a curated danger phrase matches
    whole: Ranking
    parts: list[tuple[str, float]]


def model_alarm(item: Scored, threshold: float) -> bool:
    """The model's half of handlers.safety.danger_from_any."""
    if any(score >= threshold for intent, score in item.whole if intent in DANGER_INTENTS):
        return True
    return any(intent in DANGER_INTENTS and score >= threshold for intent, score in item.parts)


def _own_messages() -> list[tuple[str, bool]]:
    data = yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))
    return [
        (str(text), kind == "danger")
        for kind in ("danger", "hard_negative")
        for texts in data[kind].values()
        for text in texts
    ]


def _score_fold(
    model: LinearIntentModel,
    texts: Sequence[tuple[str, str, bool]],
    vector: Callable[[str], np.ndarray | None],
    matcher: DangerMatcher,
) -> list[Scored]:
    scored = []
    for text, group, danger in texts:
        norm = normalize_text(text)
        parts = [model.rank(normalize_text(s), vector(s))[0] for s in sentences(text)]
        scored.append(
            Scored(
                group=group,
                danger=danger,
                phrase=matcher.scan(text) is not None,
                whole=model.rank(norm, vector(text)),
                parts=parts,
            )
        )
    return scored


def _rate(items: Sequence[Scored], alarm: Callable[[Scored], bool]) -> str:
    if not items:
        return "   -   "
    hits = sum(alarm(i) for i in items)
    return f"{hits:3d}/{len(items):<4d}"


def report(scored: Sequence[Scored], thresholds: Sequence[float]) -> None:
    groups = {
        "danger (held out)": [s for s in scored if s.danger and s.group in DANGER_INTENTS],
        "own danger": [s for s in scored if s.group == "own danger"],
        "calm (held out)": [s for s in scored if not s.danger and s.group != "own hard negative"],
        "own hard negative": [s for s in scored if s.group == "own hard negative"],
    }
    near = {name: [s for s in scored if s.group == name] for name in NEAR_DANGER}
    header = "threshold " + " ".join(f"{name:>18}" for name in [*groups, *near])
    for title, with_phrases in (("model alone", False), ("model + phrase lists", True)):
        print(f"\n{title}: alarms / messages (danger rows: caught; others: false alarms)")
        print(header)
        for threshold in thresholds:

            def alarm(item: Scored, t: float = threshold, p: bool = with_phrases) -> bool:
                return (p and item.phrase) or model_alarm(item, t)

            cells = [_rate(items, alarm) for items in [*groups.values(), *near.values()]]
            print(f"{threshold:9.2f} " + " ".join(f"{c:>18}" for c in cells))


def main(arguments: list[str]) -> None:
    thresholds = [float(a) for a in arguments] or list(DEFAULT_THRESHOLDS)
    examples = load_examples(Path("nlu/data"))
    own = _own_messages()
    settings, dense = _pipeline_config(Path("nlu/config.yml"))
    config = LinearConfig.from_dict(settings)
    every = [e.text for e in examples] + [t for t, _ in own]
    every += [s for t in every for s in sentences(t)]
    keys = sorted({normalize_text(t) for t in every})
    vectors = dict(zip(keys, embed(keys), strict=True)) if dense else {}

    def vector(text: str) -> np.ndarray | None:
        return vectors.get(normalize_text(text)) if dense else None

    phrases = FileContentStore.from_dir(Path("content"), ["es", "en"], "es").danger_phrases()
    matcher = DangerMatcher(phrases)
    own_texts = [(t, "own danger" if d else "own hard negative", d) for t, d in own]
    scored: list[Scored] = []
    splits = folds(examples)
    for number, (train, held) in enumerate(splits, start=1):
        train_texts = [normalize_text(e.text) for e in train]
        train_vectors = np.vstack([vectors[t] for t in train_texts]) if dense else None
        model = LinearIntentModel.train(
            train_texts, [e.intent for e in train], config, train_vectors
        )
        held_texts = [(e.text, e.intent, e.intent in DANGER_INTENTS) for e in held]
        # The own messages are scored by every fold's model: five readings each.
        scored += _score_fold(model, [*held_texts, *own_texts], vector, matcher)
        print(f"fold {number}/{len(splits)} scored", flush=True)
    print(f"{len(examples)} examples, {len(own)} own messages x {len(splits)} folds")
    report(scored, thresholds)


if __name__ == "__main__":
    main(sys.argv[1:])
