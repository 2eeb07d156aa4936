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
        {
            "analyzers": [{"kind": "char_wb", "min_n": 1, "max_n": 3}],
            "c": 0.5,
            "temperature": 1,
            "dense_weight": 2,
            "novelty_quantile": 0.05,
            "novelty_neighbours": 5,
            "novelty_max_confidence": 0.5,
            "out_of_scope_intent": "other",
        }
    )
    assert LinearConfig.from_dict(config.as_dict()) == config
    assert LinearConfig.from_dict({}) == LinearConfig()


# Sentence embeddings come from the Rasa featurizer at run time; here, made-up
# vectors: one direction per intent plus noise, and a direction none of them uses.
DIM = 8
OOS_TEXTS = ["quien gano el partido", "receta de pupusas", "chiste de pericos"]
DENSE_TEXTS = TEXTS + OOS_TEXTS
DENSE_INTENTS = INTENTS + ["out_of_scope"] * 3


def _embedding(axis: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vector = 0.15 * rng.standard_normal(DIM)
    vector[axis] += 1.0
    return np.asarray(vector / np.linalg.norm(vector), dtype=np.float32)


AXES = {"reintegration": 0, "asylum": 1, "greet": 2, "out_of_scope": 3}
EMBEDDINGS = np.vstack(
    [_embedding(AXES[intent], n) for n, intent in enumerate(DENSE_INTENTS)]
).astype(np.float32)
FAR = _embedding(7, 99)  # near nothing we were trained on


@pytest.fixture(scope="module")
def dense_model() -> LinearIntentModel:
    config = LinearConfig(novelty_quantile=0.5, novelty_neighbours=2)
    return LinearIntentModel.train(DENSE_TEXTS, DENSE_INTENTS, config, EMBEDDINGS)


def test_dense_block_margins_equal_scikit_learns_on_the_stacked_features(
    dense_model: LinearIntentModel,
) -> None:
    from scipy.sparse import csr_matrix

    config = dense_model.config
    vectorizers = [
        TfidfVectorizer(
            analyzer=a.kind, ngram_range=(a.min_n, a.max_n), sublinear_tf=True, lowercase=False
        )
        for a in config.analyzers
    ]
    parts = [v.fit_transform(DENSE_TEXTS) for v in vectorizers]
    unit = EMBEDDINGS / np.linalg.norm(EMBEDDINGS, axis=1, keepdims=True)
    matrix = hstack([*parts, csr_matrix(config.dense_weight * unit)]).tocsr()
    svm = LinearSVC(C=config.c, random_state=0).fit(matrix, DENSE_INTENTS)
    probe = ["quiero asilo", "hola, busco trabajo"]
    probe_vectors = np.vstack([_embedding(1, 500), _embedding(0, 501)])
    stacked = hstack([*[v.transform(probe) for v in vectorizers], csr_matrix(probe_vectors)])
    expected = svm.decision_function(stacked.tocsr())
    ours = np.vstack([dense_model.margins(t, e) for t, e in zip(probe, probe_vectors, strict=True)])
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5)


def test_a_message_far_from_every_topic_gets_out_of_scope_on_top(
    dense_model: LinearIntentModel,
) -> None:
    near = dense_model.rank("una pregunta", _embedding(1, 200))
    assert near[0][0] == "asylum"
    assert not dense_model.is_novel(_embedding(1, 200))
    far = dense_model.rank("una pregunta", FAR)
    assert dense_model.is_novel(FAR)
    assert far[0][0] == "out_of_scope"
    # Every other intent keeps its own confidence, so the engine's safety rule still
    # reads a danger intent anywhere in the ranking; out_of_scope takes the best one.
    margins = dense_model.margins("una pregunta", FAR) / dense_model.config.temperature
    softmax = np.exp(margins - margins.max()) / np.exp(margins - margins.max()).sum()
    for name, confidence in far[1:]:
        assert confidence == pytest.approx(softmax[dense_model.classes.index(name)])
    assert far[0][1] == pytest.approx(softmax.max())


def test_a_topic_the_model_is_sure_of_is_kept_however_far(dense_model: LinearIntentModel) -> None:
    ranking = dense_model.rank("quiero pedir asilo", FAR)
    assert dense_model.is_novel(FAR)
    assert ranking[0][0] == "asylum"
    assert ranking[0][1] >= dense_model.config.novelty_max_confidence


def test_novelty_threshold_is_learnt_from_in_scope_examples_only(
    dense_model: LinearIntentModel,
) -> None:
    assert dense_model.novelty is not None
    assert dense_model.novelty.reference.shape == (len(TEXTS), DIM)
    assert 0.0 < dense_model.novelty.threshold < 1.0
    off = LinearIntentModel.train(
        DENSE_TEXTS, DENSE_INTENTS, LinearConfig(novelty_quantile=0), EMBEDDINGS
    )
    assert off.novelty is None and not off.is_novel(FAR)
    # Without an out-of-scope intent there is nothing to put on top: no check.
    assert LinearIntentModel.train(TEXTS, INTENTS, None, EMBEDDINGS[: len(TEXTS)]).novelty is None


def test_dense_model_round_trips_without_pickle(
    dense_model: LinearIntentModel, tmp_path: Path
) -> None:
    dense_model.save(tmp_path)
    loaded = LinearIntentModel.load(tmp_path)
    for text, vector in (("quiero pedir asilo", _embedding(1, 300)), ("buenas", FAR)):
        ours = loaded.rank(text, vector)
        theirs = dense_model.rank(text, vector)
        assert [n for n, _ in ours] == [n for n, _ in theirs]
        np.testing.assert_allclose([c for _, c in ours], [c for _, c in theirs], atol=1e-6)
    assert loaded.novelty is not None and dense_model.novelty is not None
    assert loaded.novelty.threshold == dense_model.novelty.threshold
    with np.load(tmp_path / "linear_intent.npz", allow_pickle=False) as arrays:
        assert arrays["novelty_reference"].dtype == np.float16


def test_dense_model_needs_the_embedding_it_was_trained_with(
    dense_model: LinearIntentModel,
) -> None:
    with pytest.raises(ValueError):
        dense_model.rank("quiero asilo")
    with pytest.raises(ValueError):
        dense_model.rank("quiero asilo", np.ones(DIM + 1, dtype=np.float32))
    with pytest.raises(ValueError):
        LinearIntentModel.train(DENSE_TEXTS, DENSE_INTENTS, None, EMBEDDINGS[:3])
