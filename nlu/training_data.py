"""Read and write the Rasa YAML training data under `nlu/data/<lang>/`.

The app reads it too: for the baseline classifier, the known-vocabulary guard
and language detection, so the NLU and the engine agree on what words exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from kernel.normalize import normalize_text

# libyaml's safe loader: the same documents, parsed ten times faster (content and
# training data are read at every start, `ventanilla ask` included).
FAST_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    language: str


def _examples_block(block: str) -> list[str]:
    lines = []
    for line in block.splitlines():
        stripped = line.strip()
        if stripped.startswith("- "):
            lines.append(stripped[2:].strip())
    return [line for line in lines if line]


def load_examples(data_dir: Path) -> list[Example]:
    """All examples; the language is the name of the folder a file sits in."""
    examples: list[Example] = []
    for path in sorted(data_dir.rglob("*.yml")):
        language = path.parent.name if path.parent != data_dir else "und"
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_SAFE_LOADER) or {}
        for item in document.get("nlu") or []:
            if "intent" not in item:
                continue
            for text in _examples_block(str(item.get("examples") or "")):
                examples.append(Example(text=text, intent=str(item["intent"]), language=language))
    return examples


def intents_of(examples: Iterable[Example]) -> list[str]:
    return sorted({example.intent for example in examples})


def write_normalized(examples: Iterable[Example], target: Path) -> Path:
    """Write one Rasa NLU file with normalised, de-duplicated examples per intent."""
    by_intent: dict[str, list[str]] = {}
    for example in examples:
        text = normalize_text(example.text)
        if text:
            by_intent.setdefault(example.intent, [])
            if text not in by_intent[example.intent]:
                by_intent[example.intent].append(text)
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = ['version: "3.1"', "nlu:"]
    for intent in sorted(by_intent):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {text}" for text in by_intent[intent])
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target
