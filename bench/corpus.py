"""The load corpus: mostly unique messages, composed the way people write on WhatsApp.

    .venv/bin/python -m bench.corpus 20        # print 20 messages to look at

A cycled list of a few dozen questions lets the app's parse cache answer almost
every message after the first round, so a benchmark would measure the cache, not
the NLU. Here each question is composed from an optional greeting or apology, an
optional bit of story, the need and an optional closing, with places, countries,
relatives and documents filled at random, sometimes in slang or without
punctuation, as a voice note transcribes; a composed text is never sent twice.
Greetings, thanks and menu numbers repeat, as they do in real chats. The parts
live in `corpus_parts.yml` and were written for this benchmark, never taken from
an evaluation file.
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from kernel.normalize import normalize_text

PARTS = Path(__file__).with_name("corpus_parts.yml")
# Share of each kind of message. "question" and "long" are composed and unique.
WEIGHTS = {"question": 55, "long": 10, "menu_number": 15, "greeting": 10, "thanks": 10}
LANGUAGES = {"es": 80, "en": 20}
MENU_NUMBERS = ["1", "2", "3", "4", "5", "6", "7"]
_SLOT = re.compile(r"\{(\w+)\}")


class Composer:
    def __init__(self, seed: int, parts: dict[str, Any] | None = None) -> None:
        self.parts = parts or yaml.safe_load(PARTS.read_text(encoding="utf-8"))
        self.rng = random.Random(seed)
        self.seen: set[str] = set()

    def _fill(self, template: str, language: str) -> str:
        slots = {**self.parts["slots"], **self.parts[language].get("slots", {})}
        return _SLOT.sub(lambda m: str(self.rng.choice(slots[m.group(1)])), template)

    def _style(self, text: str, language: str) -> str:
        roll = self.rng.random()
        if roll < 0.25:  # slang and shortcuts
            for word, short in self.parts[language]["slang"].items():
                if self.rng.random() < 0.7:
                    text = re.sub(rf"\b{re.escape(word)}\b", short, text, flags=re.IGNORECASE)
        elif roll < 0.45:  # a voice note: no punctuation, all lower case
            text = re.sub(r"[,.?!¿¡]", "", text).lower()
        elif roll < 0.6:
            text = text[:1].upper() + text[1:] + self.rng.choice(["?", "??", ".", " 🙏"])
        return text

    def compose(self, language: str, long: bool) -> str:
        lang = self.parts[language]
        pieces: list[str] = []
        if long or self.rng.random() < 0.45:
            pieces.append(self.rng.choice(lang["openers"]))
        stories = self.rng.sample(lang["stories"], 2 if long else 1)
        if long or self.rng.random() < 0.3:
            pieces.extend(self._fill(s, language) for s in stories)
        pieces.append(self._fill(self.rng.choice(lang["needs"]), language))
        if self.rng.random() < 0.3:
            pieces.append(self.rng.choice(lang["closers"]))
        separator = self.rng.choice([", ", ". ", " "])
        return self._style(separator.join(pieces), language)

    def unique(self, language: str, long: bool) -> str:
        for _ in range(1000):
            text = self.compose(language, long)
            key = normalize_text(text)
            if key not in self.seen:
                self.seen.add(key)
                return text
        raise RuntimeError("the corpus parts ran out of new combinations")

    def message(self) -> tuple[str, str]:
        """(kind, text) of the next message."""
        kind = self.rng.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
        language = self.rng.choices(list(LANGUAGES), list(LANGUAGES.values()))[0]
        if kind == "menu_number":
            return kind, self.rng.choice(MENU_NUMBERS)
        if kind in ("greeting", "thanks"):
            key = "greetings" if kind == "greeting" else "thanks"
            return kind, self.rng.choice(self.parts[language][key])
        return kind, self.unique(language, long=kind == "long")


def messages(seed: int) -> Iterator[tuple[str, str]]:
    composer = Composer(seed)
    while True:
        yield composer.message()


if __name__ == "__main__":
    stream = messages(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
    for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 20):
        kind, text = next(stream)
        print(f"{kind:12} {text}")
