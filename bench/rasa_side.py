"""Build and serve the same bot as a plain Rasa assistant, for the side-by-side benchmark.

    .venv/bin/python -m bench.rasa_side /tmp/rasa-side [PORT]  # trains once, serves on PORT (5006)

The assistant has the same NLU pipeline and training data, a domain whose
responses are our Spanish answers, and one rule per intent (RulePolicy), served
by `rasa run` with its REST channel. Run bench.load with --rasa-url against it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from bot.content import load_bundle
from bot.settings import load_settings
from handlers.safety import CRISIS_KEY, SELF_HARM_KEY
from nlu.server import rasa_env, rasa_executable
from nlu.training_data import intents_of, load_examples, write_normalized

# Intents whose answer is stored under another content key (the engine's safety rule
# answers self-harm with the crisis answer).
ANSWER_KEY = {SELF_HARM_KEY: CRISIS_KEY}


def build(project: Path) -> None:
    settings = load_settings()
    examples = load_examples(settings.nlu.data_dir)
    intents = intents_of(examples)
    bundle = load_bundle(settings.content_dir, settings.languages)
    (project / "data").mkdir(parents=True, exist_ok=True)
    write_normalized(examples, project / "data" / "nlu.yml")
    domain = {
        "version": "3.1",
        "intents": intents,
        "responses": {
            f"utter_{intent}": [{"text": bundle.entries["es"][ANSWER_KEY.get(intent, intent)].text}]
            for intent in intents
        },
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
    }
    (project / "domain.yml").write_text(yaml.safe_dump(domain, allow_unicode=True))
    rules = {
        "version": "3.1",
        "rules": [
            {"rule": f"answer {i}", "steps": [{"intent": i}, {"action": f"utter_{i}"}]}
            for i in intents
        ],
    }
    (project / "data" / "rules.yml").write_text(yaml.safe_dump(rules))
    config = yaml.safe_load(settings.nlu.config.read_text())
    config["policies"] = [{"name": "RulePolicy"}]
    (project / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (project / "credentials.yml").write_text("rest:\n")


def main() -> None:
    project = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="rasa-side-"))
    port = sys.argv[2] if len(sys.argv) > 2 else "5006"
    build(project)
    rasa = str(rasa_executable())
    if not any((project / "models").glob("*.tar.gz")):
        subprocess.run([rasa, "train", "--out", "models"], cwd=project, env=rasa_env(), check=True)
    print(f"serving the Rasa assistant from {project} on http://127.0.0.1:{port}", flush=True)
    # `kill` (SIGTERM) used to leave `rasa run` serving on its own; as an exception,
    # subprocess.run kills the child on its way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    subprocess.run(
        [
            rasa,
            "run",
            "--quiet",
            "-i",
            "127.0.0.1",
            "-p",
            port,
            "--credentials",
            "credentials.yml",
            "--model",
            "models",
        ],
        cwd=project,
        env=rasa_env(),
        check=True,
    )


if __name__ == "__main__":
    main()
