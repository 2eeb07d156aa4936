"""Compare NLU pipeline variants on a held-out split of our own training data (run by hand).

    .venv/bin/python -m bench.nlu_pipelines nlu/config.yml other-config.yml ...

Pipelines are chosen on this split, never on an external evaluation set, so the
external figures stay honest. Prints accuracy and macro-F1 for each config and
for the TF-IDF + logistic-regression baseline, plus training time.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bot.nlu_client import RasaClient
from nlu.evaluate import Baseline, Labelled, score
from nlu.holdout import split
from nlu.server import LocalRasaServer
from nlu.train import train_model
from nlu.training_data import load_examples
from tests.conftest import free_port


async def _predict(model: Path, items: list[Labelled]) -> list[str]:
    server = LocalRasaServer(model, free_port(), model.parent / "rasa.log")
    server.start()
    try:
        await server.wait_until_ready(240)
        client = RasaClient(server.url, server.auth_token, 10)
        predictions = [(await client.classify(i.text)).intent for i in items]
        await client.aclose()
        return predictions
    finally:
        server.stop()


def main(configs: list[str]) -> None:
    examples = load_examples(Path("nlu/data"))
    train, held = split(examples)
    items = [Labelled(e.text, e.language, e.intent) for e in held]
    print(f"train {len(train)} / held out {len(held)}")
    base = score("baseline", items, Baseline(train).predict([i.text for i in items]))
    print(f"{'baseline':40} acc {base.accuracy:.3f}  macroF1 {base.macro_f1:.3f}")
    for config in configs:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.monotonic()
            model = train_model(Path(config), Path(tmp), examples=train, report=lambda _: None)
            seconds = time.monotonic() - started
            report = score(config, items, asyncio.run(_predict(model, items)))
        print(
            f"{config:40} acc {report.accuracy:.3f}  macroF1 {report.macro_f1:.3f}"
            f"  train {seconds:.0f}s"
        )


if __name__ == "__main__":
    main(sys.argv[1:] or ["nlu/config.yml"])
