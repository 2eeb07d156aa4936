"""The batch parse route's isolation: a text the model fails on fails alone.

Runs in Rasa's own environment (the route's module imports Rasa). The stand-in is
Rasa's graph runner, the edge between our route and Rasa's model: it fails any run
that holds a given text, as a model bug on one odd text would.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from nlu.server import PROJECT_ROOT, rasa_env, rasa_executable

pytestmark = pytest.mark.rasa

SCRIPT = """
import json
from types import SimpleNamespace
from rasa.shared.nlu.training_data.message import Message
from nlu.components.batch_parse import parse_isolated

runs = []

class Runner:
    def run(self, inputs, targets):
        texts = [m.text for m in inputs["__message__"]]
        runs.append(texts)
        if "odd text" in texts:
            raise RuntimeError("model bug")
        intent = {"name": "documents", "confidence": 0.9}
        return {targets[0]: [
            Message(data={"text": t, "intent": intent}, output_properties={"intent"})
            for t in texts
        ]}

processor = SimpleNamespace(
    graph_runner=Runner(), model_metadata=SimpleNamespace(nlu_target="nlu")
)
results = parse_isolated(processor, ["first", "odd text", "last"])
print(json.dumps({"results": results, "runs": runs}))
"""


def test_one_text_the_model_fails_on_does_not_fail_the_others() -> None:
    python = rasa_executable().with_name("python")
    out = subprocess.run(
        [str(python), "-c", SCRIPT],
        env=rasa_env(),
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
        timeout=300,
    ).stdout
    report = json.loads(out.decode().strip().splitlines()[-1])
    first, odd, last = report["results"]
    assert first["intent"]["name"] == last["intent"]["name"] == "documents"
    assert first["text"] == "first" and last["text"] == "last"
    assert set(odd) == {"error"}
    # One run for all three, then each text alone.
    assert report["runs"] == [["first", "odd text", "last"], ["first"], ["odd text"], ["last"]]
