"""The training data itself: the contract's intents in both languages, tidy files, no leaks.

A wrong label or an evaluation line copied into training does not break any other
test: the model still trains and the figures even improve. These checks catch it.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
import yaml
from scipy.sparse import csr_matrix

from bot.settings import PROJECT_ROOT
from kernel.normalize import normalize_text, words
from nlu import eval_fingerprints
from nlu.training_data import Example, load_examples

DATA = PROJECT_ROOT / "nlu" / "data"
# The evaluation sets sit next to the repository on the team's machines, not in it;
# where they are absent the committed fingerprints of their lines stand in.
EVAL_DIR = PROJECT_ROOT.parent / "shared" / "eval"
LANGUAGES = ("es", "en")

# Intent contract v2 (../shared/intents.md): none of these may be renamed or merged.
CONTRACT = frozenset(
    {
        "greet",
        "goodbye",
        "thank",
        "menu",
        "rights",
        "asylum",
        "voluntary_return",
        "returnee_reception",
        "reintegration",
        "documents",
        "health_services",
        "psychosocial_support",
        "irregular_migration_risks",
        "regular_migration",
        "child_protection",
        "trafficking_emergency",
        "office_locations",
        "talk_to_human",
        "change_language",
        "out_of_scope",
        "missing_person",
        "scam_check",
        "self_harm",
    }
)
# Enough examples for the model to learn an intent in each language's own words.
MIN_EXAMPLES = {"es": 60, "en": 30}
# Share of words two texts must have in common to count as one text lightly edited.
SIMILAR = 0.75


@pytest.fixture(scope="module")
def examples() -> list[Example]:
    return load_examples(DATA)


def test_every_contract_intent_has_examples_in_both_languages(examples: list[Example]) -> None:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for example in examples:
        counts[(example.intent, example.language)] += 1
    assert {e.intent for e in examples} == CONTRACT
    for intent in sorted(CONTRACT):
        for language in LANGUAGES:
            have = counts[(intent, language)]
            assert have >= MIN_EXAMPLES[language], f"{language}/{intent}: only {have} examples"


def test_one_file_per_intent_per_language_named_after_it() -> None:
    for language in LANGUAGES:
        files = sorted((DATA / language).glob("*.yml"))
        assert {f.stem for f in files} == CONTRACT, language
        for path in files:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            blocks = [item for item in document["nlu"] if "intent" in item]
            assert [b["intent"] for b in blocks] == [path.stem], path


def test_no_text_is_given_two_intents_or_repeated(examples: list[Example]) -> None:
    seen: dict[str, Example] = {}
    repeated: list[str] = []
    for example in examples:
        key = normalize_text(example.text)
        first = seen.setdefault(key, example)
        if first is not example:
            where = f"{example.language}/{example.intent} and {first.language}/{first.intent}"
            repeated.append(f"{example.text!r} in {where}")
    assert repeated == [], "\n".join(repeated)


def _eval_texts() -> list[str]:
    """The live evaluation lines, normalised; empty where the sets are not beside us."""
    return [normalize_text(t) for t in eval_fingerprints.eval_texts(EVAL_DIR)]


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    """Word-set overlap high enough to be a copy with a word or two changed."""
    return len(a & b) / len(a | b) >= SIMILAR


def _near_copies(mine: list[frozenset[str]], theirs: list[frozenset[str]]) -> list[int]:
    """Indexes in `mine` of word sets similar to one in `theirs` (one sparse product)."""
    vocabulary = {w: i for i, w in enumerate(sorted(set().union(*mine, *theirs)))}

    def matrix(sets: list[frozenset[str]]) -> csr_matrix:
        rows = [r for r, ws in enumerate(sets) for _ in ws]
        cols = [vocabulary[w] for ws in sets for w in ws]
        return csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(sets), len(vocabulary)))

    shared = (matrix(mine) @ matrix(theirs).T).tocoo()
    sizes_mine = np.array([len(ws) for ws in mine])
    sizes_theirs = np.array([len(ws) for ws in theirs])
    union = sizes_mine[shared.row] + sizes_theirs[shared.col] - shared.data
    return sorted({int(r) for r in shared.row[shared.data / union >= SIMILAR]})


def test_no_evaluation_line_leaks_into_training(examples: list[Example]) -> None:
    """Copied or lightly edited evaluation lines would make the figures measure memory.

    Short texts ("gracias", "hola") are common to any chat and are skipped; from four
    words on, the same words in any order fail everywhere (against the committed
    fingerprints), and where the evaluation sets are beside the repository a near copy
    (three quarters of the words shared) fails too. Only our own training line is
    printed, never the evaluation line.
    """
    known = eval_fingerprints.read()
    leaks = [
        f"{e.language}/{e.intent}: {e.text}"
        for e in examples
        if eval_fingerprints.fingerprint(e.text) in known
    ]
    theirs = [ws for ws in (frozenset(words(t)) for t in _eval_texts()) if len(ws) >= 4]
    ours = [e for e in examples if len(set(words(normalize_text(e.text)))) >= 4]
    if theirs:
        mine = [frozenset(words(normalize_text(e.text))) for e in ours]
        leaks += [
            f"{ours[i].language}/{ours[i].intent}: {ours[i].text}"
            for i in _near_copies(mine, theirs)
        ]
    leaks = sorted(set(leaks))
    assert leaks == [], "training lines too close to evaluation lines:\n" + "\n".join(leaks)


def test_the_fingerprints_cover_every_evaluation_line() -> None:
    """The committed fingerprints are current: every live evaluation line of four words
    or more has one (regenerate: `python -m nlu.eval_fingerprints ../shared/eval`).
    Without the live sets, the file must still hold a plausible number of well-formed
    fingerprints, so an emptied file cannot pass the leak check silently."""
    known = eval_fingerprints.read()
    assert all(len(f) == 64 and set(f) <= set("0123456789abcdef") for f in known)
    assert len(known) >= 500  # 637 from the 667 lines of 2026-12-02
    live = eval_fingerprints.fingerprints(_eval_texts())
    missing = len(live - known)
    assert missing == 0, f"{missing} evaluation lines have no fingerprint: regenerate the file"


def test_a_fingerprint_matches_the_same_words_in_any_form_and_nothing_else() -> None:
    line = "Mi hermano se fue hace tres meses y ya no contesta"
    same = eval_fingerprints.fingerprint("y ya no contesta, mi HERMANO se fue hace tres meses!!")
    assert eval_fingerprints.fingerprint(line) == same
    assert eval_fingerprints.fingerprint(line.replace("tres", "dos")) != same
    assert eval_fingerprints.fingerprint("hola buenas noches") is None  # too short to count


def test_leak_check_catches_a_lightly_edited_copy() -> None:
    original = frozenset(words("mi hermano se fue hace tres meses y ya no contesta"))
    edited = frozenset(words("mi hermano se fue hace dos meses y ya no contesta"))
    unrelated = frozenset(words("mi hermano quiere saber donde saca el pasaporte"))
    assert _similar(original, edited)
    assert not _similar(original, unrelated)
    assert _near_copies([unrelated, edited, original], [original]) == [1, 2]
