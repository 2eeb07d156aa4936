"""How the local NLU server is started: its environment."""

from __future__ import annotations

from nlu.server import BLAS_THREAD_VARIABLES, rasa_env


def test_math_libraries_run_one_thread_unless_the_operator_says_otherwise() -> None:
    env = rasa_env({"PATH": "/usr/bin"})
    assert all(env[name] == "1" for name in BLAS_THREAD_VARIABLES)
    assert rasa_env({"OPENBLAS_NUM_THREADS": "4"})["OPENBLAS_NUM_THREADS"] == "4"
