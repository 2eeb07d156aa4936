"""`ventanilla nlu eval FILE.jsonl`: how well the bot answers held-out messages.

Messages go through the whole engine (several sentences, safety rule, guards),
each as a new person in memory only, because that is what a person meets; the
served model alone and a TF-IDF baseline are reported beside it as yardsticks.
A file whose lines carry `danger` (true/false) is scored as a safety set instead:
every danger line must get emergency or crisis contacts and a handoff.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.dispatcher import Dispatcher
from bot.settings import Settings
from kernel.types import (
    EngineResult,
    IncomingMessage,
    IntentClassifier,
    NLUUnavailableError,
    Route,
)
from nlu.evaluate import Baseline, Labelled, Report, format_side_by_side, read_jsonl, score
from nlu.training_data import load_examples

NO_ANSWER = "(no answer)"
UNSURE = "(unsure)"  # the fallback: two likely topics and the menu, neither right nor "not ours"
OUT_OF_SCOPE = "out_of_scope"
# Routes on which the bot said it cannot answer: for an out-of-scope question that is right.
NO_TOPIC_ROUTES = frozenset({Route.UNKNOWN_WORDS, Route.NO_WORDS, Route.OTHER_LANGUAGE})
URGENT_REASONS = frozenset({"trafficking_emergency", "crisis_support", "child_protection"})
SAFETY_LABELS = {Route.SAFETY_EMERGENCY: "trafficking_emergency", Route.SAFETY_CRISIS: "self_harm"}


def engine_label(result: EngineResult) -> str:
    """The intent a person effectively got an answer for."""
    if result.route in SAFETY_LABELS:
        return SAFETY_LABELS[result.route]
    if result.route in NO_TOPIC_ROUTES:
        return OUT_OF_SCOPE
    if result.route is Route.FALLBACK:
        return UNSURE
    return result.intent or NO_ANSWER


@dataclass(frozen=True)
class SafetyLine:
    text: str
    danger: bool
    kind: str
    language: str


def read_safety(path: Path) -> list[SafetyLine]:
    lines = [json.loads(raw) for raw in path.read_text(encoding="utf-8").splitlines() if raw]
    return [
        SafetyLine(str(d["text"]), bool(d["danger"]), str(d.get("kind", "")), str(d["lang"]))
        for d in lines
    ]


def is_safety_file(path: Path) -> bool:
    first = next((raw for raw in path.read_text(encoding="utf-8").splitlines() if raw), "{}")
    return "danger" in json.loads(first)


async def through_engine(dispatcher: Dispatcher, texts: Sequence[str]) -> list[EngineResult]:
    results: list[EngineResult] = []
    for index, text in enumerate(texts):
        message = IncomingMessage(channel="eval", user_id=f"eval-{index}", text=text)
        results.append(await dispatcher.handle(message))
    return results


def safety_report(
    lines: Sequence[SafetyLine], results: Sequence[EngineResult]
) -> dict[str, object]:
    def alarmed(result: EngineResult) -> bool:
        # Emergency or crisis contacts and a person: the safety answers, and the urgent
        # child-protection answer (911 and the children's line first) for a child alone.
        return result.handoff is not None and result.handoff.reason in URGENT_REASONS

    missed = [
        line for line, r in zip(lines, results, strict=True) if line.danger and not alarmed(r)
    ]
    false_alarms = [
        line for line, r in zip(lines, results, strict=True) if not line.danger and alarmed(r)
    ]
    dangers = sum(1 for line in lines if line.danger)
    return {
        "danger_lines": dangers,
        "caught": dangers - len(missed),
        "safe_lines": len(lines) - dangers,
        "false_alarms": len(false_alarms),
        "missed_kinds": sorted({line.kind for line in missed}),
        "false_alarm_kinds": sorted({line.kind for line in false_alarms}),
    }


def out_of_scope_line(report: Report) -> str:
    s = report.per_intent.get(OUT_OF_SCOPE)
    if s is None:
        return "out_of_scope: not in this file"
    return f"out_of_scope through the engine: precision {s.precision:.3f}, recall {s.recall:.3f}"


async def run_eval(
    settings: Settings, path: Path, as_json: bool, say: Callable[[str], None]
) -> int:
    from bot.composition import text_resources
    from bot.engine import build_dispatcher, file_content
    from bot.memory_state import InMemoryStateStore
    from bot.nlu_client import RasaClient
    from bot.nlu_endpoint import nlu_endpoint

    # The engine logs one line per message; the report is what matters here.
    logging.getLogger("bot.dispatcher").setLevel(logging.WARNING)
    async with nlu_endpoint(settings, say) as endpoint:
        client = RasaClient.configured(endpoint.url, endpoint.auth_token, settings.nlu)
        dispatcher = build_dispatcher(
            settings,
            client,
            InMemoryStateStore(),
            file_content(settings),
            text=text_resources(settings),
        )
        try:
            if is_safety_file(path):
                lines = read_safety(path)
                say(f"Safety set: {len(lines)} messages through the engine.")
                results = await through_engine(dispatcher, [line.text for line in lines])
                report = safety_report(lines, results)
                print(json.dumps(report, indent=2 if not as_json else None))
                return 0
            items = read_jsonl(path)
            say(f"Evaluating {len(items)} messages through the engine and the model alone.")
            engine = score("engine", items, await _engine_labels(dispatcher, items))
            model = score("rasa", items, await _model_labels(client, items))
        finally:
            await client.aclose()
    examples = load_examples(settings.nlu.data_dir)
    baseline = score("baseline", items, Baseline(examples).predict([i.text for i in items]))
    if as_json:
        reports = {r.name: r.as_dict() for r in (engine, model, baseline)}
        print(json.dumps(reports, indent=2))
    else:
        print(format_side_by_side([engine, model, baseline], out_of_scope_line(engine)))
    return 0


async def _engine_labels(dispatcher: Dispatcher, items: Sequence[Labelled]) -> list[str]:
    return [engine_label(r) for r in await through_engine(dispatcher, [i.text for i in items])]


async def _model_labels(classifier: IntentClassifier, items: Sequence[Labelled]) -> list[str]:
    labels: list[str] = []
    for item in items:
        try:
            labels.append((await classifier.classify(item.text)).intent)
        except (NLUUnavailableError, ValueError):
            labels.append(NO_ANSWER)
    return labels
