"""Choose `nlu.safety_threshold` on our own held-out data (run by hand).

    .venv/bin/python -m bench.safety_threshold                 # thresholds 0.1 .. 0.6
    .venv/bin/python -m bench.safety_threshold 0.15 0.3 0.45   # these thresholds only
    .venv/bin/python -m bench.safety_threshold sentence=0.2,0.5   # sentence thresholds
    .venv/bin/python -m bench.safety_threshold corroborate=0,0.01 # whole-text corroboration
    .venv/bin/python -m bench.safety_threshold corroborate=0.001 sure=0.9  # ... unless this sure
    .venv/bin/python -m bench.safety_threshold 0.2 corroborate=0,0.01 sure=0.9 --changes
        # ... and the own messages each rule changes against the first
    .venv/bin/python -m bench.safety_threshold 0.2 reported=0,0.5,0.7 --changes
        # trafficking threshold for news and hearsay (0: the marker list is ignored)

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
- messages of two sentences made of held-out examples (a calm one, then a
  danger one: must be caught; two calm ones: must not alarm), for the rule
  that a sentence whose best reading is danger counts (handlers/safety.py);
- false alarms over the held-out examples of every other intent (per intent for
  the calm topics closest to danger), and over own-written hard negatives in
  bench/safety_messages.yml: figurative speech, news, a danger already over,
  asylum because of past threats. Those are scored by each fold's model.

Figures are printed for the model alone and for the model with the phrase lists
(what the engine does). A missed danger costs more than a false alarm: pick the
variant with the lowest cost, where a missed danger counts as MISS_COST false alarms.
"""

from __future__ import annotations

import random
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
from handlers.safety import (
    CORROBORATION,
    EMERGENCY_KEY,
    QUIETABLE,
    REPORTED_THRESHOLD,
    SELF_HARM_KEY,
    SENTENCE_SURE,
    SENTENCE_THRESHOLD,
    DangerMatcher,
    danger_from_any,
)
from kernel.normalize import normalize_text
from kernel.types import IntentResult
from nlu.linear_model import LinearConfig, LinearIntentModel
from nlu.training_data import Example, load_examples

DANGER_INTENTS = frozenset({EMERGENCY_KEY, SELF_HARM_KEY})
# Calm topics whose words are closest to danger: their false alarms are shown apart.
NEAR_DANGER = ("asylum", "psychosocial_support", "child_protection", "missing_person", "rights")
# How many false alarms one missed danger is worth when ranking the variants (a
# judgement, stated here so the choice can be argued with): the cost column.
MISS_COST = 5
MAIN_GROUPS = (
    "danger (held out)",
    "two: calm, danger",
    "own danger",
    "calm (held out)",
    "two: calm, calm",
    "own hard negative",
)
DEFAULT_THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)
MESSAGES = Path(__file__).with_name("safety_messages.yml")

Ranking = list[tuple[str, float]]
SOCIAL = frozenset({"greet", "thank", "goodbye", "out_of_scope"})


@dataclass(frozen=True)
class Scored:
    """One held-out text: its gold group, the whole text's reading, its sentences' readings."""

    group: str  # an intent of nlu/data, "own danger", "own hard negative", "two ..."
    text: str
    danger: bool
    phrase: bool  # a curated danger phrase matches
    reported: bool  # a marker of news or hearsay matches
    whole: IntentResult
    parts: list[IntentResult]


# sentence threshold, whole-text corroboration, sure, the dangers the last two may quiet,
# the trafficking threshold for news and hearsay (0: off)
Rule = tuple[float, float, float, frozenset[str], float]


def model_alarm(item: Scored, threshold: float, rule: Rule) -> bool:
    sentence, corroboration, sure, quietable, reported = rule
    raised = reported if item.reported else 0.0
    found = danger_from_any(
        item.whole, item.parts, threshold, sentence, corroboration, sure, quietable, raised
    )
    return found is not None


def _result(ranking: Ranking) -> IntentResult:
    return IntentResult(ranking[0][0], ranking[0][1], tuple(ranking))


def _pairs(held: Sequence[Example], seed: int) -> list[tuple[str, str, bool]]:
    """Two held-out examples as one message: calm then danger, and calm then calm."""
    rng = random.Random(seed)
    calm = [e for e in held if e.intent not in DANGER_INTENTS | SOCIAL]
    danger = [e for e in held if e.intent in DANGER_INTENTS]
    made = [(f"{rng.choice(calm).text}. {d.text}", "two: calm, danger", True) for d in danger]
    for _ in range(2 * len(danger)):
        first, second = rng.sample(calm, 2)
        made.append((f"{first.text}. {second.text}", "two: calm, calm", False))
    return made


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
        parts = [_result(model.rank(normalize_text(s), vector(s))) for s in sentences(text)]
        scored.append(
            Scored(
                group=group,
                text=text,
                danger=danger,
                phrase=matcher.scan(text) is not None,
                reported=matcher.reported(text),
                whole=_result(model.rank(normalize_text(text), vector(text))),
                parts=parts,
            )
        )
    return scored


def _rate(items: Sequence[Scored], alarm: Callable[[Scored], bool]) -> str:
    if not items:
        return "   -   "
    hits = sum(alarm(i) for i in items)
    return f"{hits:3d}/{len(items):<4d}"


def _cost(groups: dict[str, list[Scored]], alarm: Callable[[Scored], bool]) -> int:
    """Missed dangers times MISS_COST plus false alarms, over the six main groups."""
    main = [item for name in MAIN_GROUPS for item in groups[name]]
    missed = sum(1 for item in main if item.danger and not alarm(item))
    false_alarms = sum(1 for item in main if not item.danger and alarm(item))
    return MISS_COST * missed + false_alarms


def report(scored: Sequence[Scored], thresholds: Sequence[float], rules: Sequence[Rule]) -> None:
    held_out = {s.group for s in scored if not s.group.startswith(("own ", "two: "))}
    groups = {
        "danger (held out)": [s for s in scored if s.danger and s.group in DANGER_INTENTS],
        "two: calm, danger": [s for s in scored if s.group == "two: calm, danger"],
        "own danger": [s for s in scored if s.group == "own danger"],
        "calm (held out)": [s for s in scored if not s.danger and s.group in held_out],
        "two: calm, calm": [s for s in scored if s.group == "two: calm, calm"],
        "own hard negative": [s for s in scored if s.group == "own hard negative"],
    }
    groups |= {name: [s for s in scored if s.group == name] for name in NEAR_DANGER}
    print("danger columns: caught / messages; the others: false alarms / messages")
    names = [*groups, f"cost ({MISS_COST}:1)"]
    header = "threshold sentence corrob.  sure quiet reported phrases "
    print(header + " ".join(f"{name[:17]:>17}" for name in names))
    for rule in rules:
        for with_phrases in (False, True):
            for threshold in thresholds:

                def alarm(
                    item: Scored, t: float = threshold, c: Rule = rule, p: bool = with_phrases
                ) -> bool:
                    return (p and item.phrase) or model_alarm(item, t, c)

                cells = [_rate(items, alarm) for items in groups.values()]
                cells.append(str(_cost(groups, alarm)))
                print(
                    f"{threshold:9.2f} {rule[0]:8.3f} {rule[1]:7.3f} {rule[2]:5.2f}"
                    f" {'all' if len(rule[3]) > 1 else 'emerg':>5} {rule[4]:8.2f}"
                    f" {'yes' if with_phrases else 'no':>7} " + " ".join(f"{c:>17}" for c in cells)
                )


def show_changes(scored: Sequence[Scored], threshold: float, rules: Sequence[Rule]) -> None:
    """Own messages whose verdict (phrase lists included) a rule changes against the
    first rule given, with the number of fold models that changed it: what a rule
    would lose or spare, in words rather than counts."""
    base, *others = rules
    own = [s for s in scored if s.group.startswith("own ")]
    for rule in others:
        changed: dict[tuple[str, bool], int] = {}
        for item in own:
            before = item.phrase or model_alarm(item, threshold, base)
            after = item.phrase or model_alarm(item, threshold, rule)
            if before != after:
                key = (item.text, item.danger)
                changed[key] = changed.get(key, 0) + 1
        print(
            f"\nrule {rule[:3]} {sorted(rule[3])} reported {rule[4]}"
            f" against {base[:3]} reported {base[4]}, threshold {threshold}:"
        )
        for (text, danger), folds_changed in sorted(changed.items(), key=lambda kv: not kv[0][1]):
            verdict = "LOST danger" if danger else "spared"
            print(f"  {verdict:11} {folds_changed}/5  {text[:150]}")


def _values(arguments: Sequence[str], prefix: str) -> list[float]:
    return [
        float(v) for a in arguments if a.startswith(prefix) for v in a[len(prefix) :].split(",")
    ]


def main(arguments: list[str]) -> None:
    sentence = _values(arguments, "sentence=") or [SENTENCE_THRESHOLD]
    corroborate = _values(arguments, "corroborate=") or [CORROBORATION]
    sure = _values(arguments, "sure=") or [SENTENCE_SURE]
    quiet = [
        frozenset(DANGER_INTENTS if name == "all" else {EMERGENCY_KEY})
        for a in arguments
        if a.startswith("quiet=")
        for name in a[len("quiet=") :].split(",")
    ] or [QUIETABLE]
    reported = _values(arguments, "reported=") or [REPORTED_THRESHOLD]
    thresholds = [float(a) for a in arguments if "=" not in a and not a.startswith("--")] or list(
        DEFAULT_THRESHOLDS
    )
    examples = load_examples(Path("nlu/data"))

    own = _own_messages()
    settings, dense = _pipeline_config(Path("nlu/config.yml"))
    config = LinearConfig.from_dict(settings)
    splits = folds(examples)
    paired = [_pairs(held, seed) for seed, (_, held) in enumerate(splits)]
    every = [e.text for e in examples] + [t for t, _ in own] + [t for p in paired for t, _, _ in p]
    every += [s for t in every for s in sentences(t)]
    keys = sorted({normalize_text(t) for t in every})
    vectors = dict(zip(keys, embed(keys), strict=True)) if dense else {}

    def vector(text: str) -> np.ndarray | None:
        return vectors.get(normalize_text(text)) if dense else None

    phrases = FileContentStore.from_dir(Path("content"), ["es", "en"], "es").danger_phrases()
    matcher = DangerMatcher(phrases)
    own_texts = [(t, "own danger" if d else "own hard negative", d) for t, d in own]
    scored: list[Scored] = []
    for number, ((train, held), pairs) in enumerate(zip(splits, paired, strict=True), start=1):
        train_texts = [normalize_text(e.text) for e in train]
        train_vectors = np.vstack([vectors[t] for t in train_texts]) if dense else None
        model = LinearIntentModel.train(
            train_texts, [e.intent for e in train], config, train_vectors
        )
        held_texts = [(e.text, e.intent, e.intent in DANGER_INTENTS) for e in held]
        # The own messages are scored by every fold's model: five readings each.
        scored += _score_fold(model, [*held_texts, *pairs, *own_texts], vector, matcher)
        print(f"fold {number}/{len(splits)} scored", flush=True)
    print(f"{len(examples)} examples, {len(own)} own messages x {len(splits)} folds")
    rules = [
        (a, b, c, q, r)
        for a in sentence
        for b in corroborate
        for c in sure
        for q in quiet
        for r in reported
    ]
    report(scored, thresholds, rules)
    if "--changes" in arguments:
        show_changes(scored, thresholds[0], rules)


if __name__ == "__main__":
    main(sys.argv[1:])
