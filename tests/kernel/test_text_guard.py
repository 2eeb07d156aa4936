from __future__ import annotations

from kernel.text_guard import TextVerdict, Vocabulary, judge_text


def test_verdicts() -> None:
    assert judge_text("", 100) is TextVerdict.EMPTY
    assert judge_text(" \n\t", 100) is TextVerdict.EMPTY
    assert judge_text("a" * 101, 100) is TextVerdict.TOO_LONG
    assert judge_text("🙏🙏🙏", 100) is TextVerdict.NO_WORDS
    assert judge_text("?!... 123", 100) is TextVerdict.NO_WORDS
    assert judge_text(bytes(range(0, 32)).decode("latin-1"), 100) is TextVerdict.NO_WORDS
    assert judge_text("\ufffd\ufffd\ufffd\ufffdab\ufffd", 100) is TextVerdict.NO_WORDS
    assert judge_text("hola", 100) is TextVerdict.OK
    assert judge_text("¿Dónde está la ventanilla?", 100) is TextVerdict.OK


def test_known_share_ignores_accents_and_case() -> None:
    vocabulary = Vocabulary.from_texts(["donde esta la oficina"])
    assert vocabulary.known_share("DÓNDE está la OFICINA") == 1.0
    assert vocabulary.known_share("asdf qwer oficina") == 1 / 3
