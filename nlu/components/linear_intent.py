"""Rasa 3.6 adapter for `nlu.linear_model`: trains, saves, loads and classifies.

Rasa imports this module by the dotted name in `nlu/config.yml`, so the project
root must be on PYTHONPATH when `rasa train` and `rasa run` start (see
`nlu.server.rasa_env`). It reads the message text itself (for its TF-IDF blocks)
and, when a dense featurizer such as `nlu.components.sentence_encoder` runs
before it, that featurizer's sentence vector as one more block and for the
novelty check that puts `out_of_scope` on top of the ranking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.linear_model import LinearConfig, LinearIntentModel


def sentence_vector(message: Message) -> np.ndarray | None:
    """The dense sentence features a featurizer put on the message, if any."""
    _, sentence = message.get_dense_features(TEXT)
    if sentence is None:
        return None
    return np.asarray(sentence.features, dtype=np.float32).reshape(-1)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return LinearConfig().as_dict()

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "numpy"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: LinearIntentModel | None = None,
    ) -> None:
        self._config = LinearConfig.from_dict(config)
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        if len({e.get(INTENT) for e in examples}) < 2:
            return self._resource
        vectors = [sentence_vector(e) for e in examples]
        embeddings = None
        if any(v is not None for v in vectors):
            if any(v is None for v in vectors):
                raise ValueError("the featurizer gave some training examples no vector")
            embeddings = np.vstack([v for v in vectors if v is not None])
        self._model = LinearIntentModel.train(
            [str(e.get(TEXT)) for e in examples],
            [str(e.get(INTENT)) for e in examples],
            self._config,
            embeddings,
        )
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(Path(directory))
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                model = LinearIntentModel.load(Path(directory))
        except (ValueError, FileNotFoundError):
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if self._model is None or not text:
                continue
            ranking = [
                {"name": name, "confidence": confidence}
                for name, confidence in self._model.rank(str(text), sentence_vector(message))
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
