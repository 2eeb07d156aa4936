"""Fingerprints of the evaluation lines, so the leak check runs where the sets are absent.

The evaluation sets (`../shared/eval/*.jsonl`) sit next to the repository on the
team's machines, never in it: their lines must not be copied into training data,
and a repository clone without them (CI, a contributor) could not check that. The
repository keeps instead one SHA-256 per evaluation line of four words or more,
taken over the line's normalised words in sorted order: a training line with the
same words (any order, case, accents or punctuation) has the same fingerprint, and
the file reveals no evaluation text.

Regenerate after the evaluation sets change (a test fails until then):

    python -m nlu.eval_fingerprints ../shared/eval
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from kernel.normalize import normalize_text, words

FINGERPRINTS = Path(__file__).with_name("eval_fingerprints.txt")
MIN_WORDS = 4  # shorter texts ("hola", "muchas gracias") are common to any chat
HEADER = (
    "# SHA-256 of each evaluation line's sorted normalised words (lines of 4+ words).\n"
    "# Made by `python -m nlu.eval_fingerprints ../shared/eval`; no evaluation text here.\n"
)


def word_set(text: str) -> frozenset[str]:
    return frozenset(words(normalize_text(text)))


def fingerprint(text: str) -> str | None:
    """The text's fingerprint, or None when it has too few words to count as a copy."""
    found = word_set(text)
    if len(found) < MIN_WORDS:
        return None
    return hashlib.sha256(" ".join(sorted(found)).encode("utf-8")).hexdigest()


def eval_texts(eval_dir: Path) -> list[str]:
    """Every line's text in the evaluation sets found in `eval_dir` (none: empty)."""
    texts = []
    for path in sorted(eval_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(str(json.loads(line)["text"]))
    return texts


def fingerprints(texts: Iterable[str]) -> set[str]:
    return {f for f in (fingerprint(t) for t in texts) if f is not None}


def read(path: Path = FINGERPRINTS) -> set[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def write(texts: Iterable[str], path: Path = FINGERPRINTS) -> int:
    found = sorted(fingerprints(texts))
    path.write_text(HEADER + "".join(f + "\n" for f in found), encoding="utf-8")
    return len(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("eval_dir", type=Path, help="folder with the evaluation *.jsonl files")
    parser.add_argument("--output", type=Path, default=FINGERPRINTS)
    arguments = parser.parse_args(argv)
    texts = eval_texts(arguments.eval_dir)
    if not texts:
        parser.error(f"no evaluation lines in {arguments.eval_dir}")
    count = write(texts, arguments.output)
    print(f"{count} fingerprints from {len(texts)} lines written to {arguments.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
