"""`ventanilla nlu eval`: run the evaluation against the served model and print the report."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from bot.core import IncomingMessage, NLUUnavailableError
from bot.settings import Settings
from nlu.evaluate import Baseline, Labelled, format_side_by_side, predict_with, read_jsonl, score
from nlu.training_data import load_examples

EMERGENCY = "trafficking_emergency"
NO_ANSWER = "(no answer)"


async def run_eval(
    settings: Settings, path: Path, as_json: bool, say: Callable[[str], None]
) -> int:
    from bot.engine import build_dispatcher, file_content
    from bot.memory_state import InMemoryStateStore
    from nlu.client import RasaClient
    from nlu.service import nlu_endpoint

    items = read_jsonl(path)
    examples = load_examples(settings.nlu.data_dir)
    say(f"Evaluating {len(items)} messages; baseline trained on {len(examples)} examples.")
    baseline = score("baseline", items, Baseline(examples).predict([i.text for i in items]))
    async with nlu_endpoint(settings, say) as endpoint:
        client = RasaClient(endpoint.url, endpoint.auth_token, settings.nlu.timeout_seconds)

        async def classify(text: str) -> str:
            try:
                return (await client.classify(text)).intent
            except (NLUUnavailableError, ValueError):
                return NO_ANSWER

        predictions = await predict_with(
            classify, items, lambda done, total: say(f"  classified {done}/{total}")
        )
        model = score("rasa", items, predictions)
        # The engine logs one line per message; the report is what matters here.
        logging.getLogger("bot.dispatcher").setLevel(logging.WARNING)
        safety = await _engine_safety(
            build_dispatcher(settings, client, InMemoryStateStore(), file_content(settings)),
            [i for i in items if i.intent == EMERGENCY],
        )
        await client.aclose()
    if as_json:
        print(
            json.dumps(
                {
                    "model": model.as_dict(),
                    "baseline": baseline.as_dict(),
                    "engine_emergency": safety,
                },
                indent=2,
            )
        )
    else:
        line = (
            f"Engine (NLU + safety rule): {safety['answered']}/{safety['total']} "
            f"{EMERGENCY} messages got the emergency answer and a handoff."
        )
        print(format_side_by_side(model, baseline, line))
    return 0


async def _engine_safety(dispatcher: object, items: list[Labelled]) -> dict[str, int]:
    from bot.dispatcher import Dispatcher

    assert isinstance(dispatcher, Dispatcher)
    answered = 0
    for index, item in enumerate(items):
        result = await dispatcher.handle(
            IncomingMessage(channel="eval", user_id=f"eval-{index}", text=item.text)
        )
        if result.handoff is not None and any(r.content_key == EMERGENCY for r in result.replies):
            answered += 1
    return {"answered": answered, "total": len(items)}
