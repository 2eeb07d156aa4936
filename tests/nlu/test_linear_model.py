from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from nlu.linear_model import LinearConfig, LinearIntentModel

TEXTS = [
    "me deportaron de mexico donde consigo chamba",
    "busco trabajo despues de regresar",
    "vengo deportado y necesito empleo",
    "quiero pedir asilo",
    "como solicito refugio en otro pais",
    "me persiguen y quiero pedir proteccion internacional",
    "hola buenos dias",
    "buenas tardes",
    "hola que tal",
]
INTENTS = ["reintegration"] * 3 + ["asylum"] * 3 + ["greet"] * 3


@pytest.fixture(scope="module")
def model() -> LinearIntentModel:
    return LinearIntentModel.train(TEXTS, INTENTS)


def test_ranks_every_intent_best_first(model: LinearIntentModel) -> None:
    ranking = model.rank("donde consigo trabajo, me deportaron")
    assert ranking[0][0] == "reintegration"
    assert sorted(name for name, _ in ranking) == ["asylum", "greet", "reintegration"]
    confidences = [c for _, c in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0)


def test_margins_equal_scikit_learns_own_pipeline(model: LinearIntentModel) -> None:
    """Our hand-written TF-IDF must give exactly the features the SVM was trained on."""
    config = LinearConfig()
    vectorizers = [
        TfidfVectorizer(
            analyzer=a.kind, ngram_range=(a.min_n, a.max_n), sublinear_tf=True, lowercase=False
        )
        for a in config.analyzers
    ]
    matrix = hstack([v.fit_transform(TEXTS) for v in vectorizers]).tocsr()
    svm = LinearSVC(C=config.c, random_state=0).fit(matrix, INTENTS)
    probe = ["hola hola, quiero asilo", "zzz", "trabajo trabajo trabajo"]
    expected = svm.decision_function(hstack([v.transform(probe) for v in vectorizers]).tocsr())
    ours = np.vstack([model.margins(text) for text in probe])
    assert list(svm.classes_) == model.classes
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5)


def test_save_and_load_give_the_same_answers_without_pickle(
    model: LinearIntentModel, tmp_path: Path
) -> None:
    model.save(tmp_path)
    loaded = LinearIntentModel.load(tmp_path)
    for text in ("quiero pedir asilo", "buenas", "", "xqzw"):
        assert loaded.rank(text) == model.rank(text)
    with np.load(tmp_path / "linear_intent.npz", allow_pickle=False) as arrays:
        assert arrays["coef"].shape == (3, sum(len(v) for v in _vocab_sizes(tmp_path)))


def _vocab_sizes(directory: Path) -> list[list[str]]:
    import json

    vocabularies: list[list[str]] = json.loads(
        (directory / "linear_intent.json").read_text(encoding="utf-8")
    )["vocabularies"]
    return vocabularies


def test_text_with_no_known_ngram_still_gets_a_ranking(model: LinearIntentModel) -> None:
    ranking = model.rank("")
    assert len(ranking) == 3
    assert sum(c for _, c in ranking) == pytest.approx(1.0)


def test_two_intents_work_and_one_is_refused() -> None:
    two = LinearIntentModel.train(TEXTS[3:], INTENTS[3:])
    assert two.rank("quiero asilo")[0][0] == "asylum"
    assert two.rank("hola buenos dias")[0][0] == "greet"
    with pytest.raises(ValueError):
        LinearIntentModel.train(TEXTS[:3], INTENTS[:3])


def test_config_round_trips_through_the_pipeline_yaml_form() -> None:
    config = LinearConfig.from_dict(
        {"analyzers": [{"kind": "char_wb", "min_n": 1, "max_n": 3}], "c": 0.5, "temperature": 1}
    )
    assert LinearConfig.from_dict(config.as_dict()) == config
    assert LinearConfig.from_dict({}) == LinearConfig()
