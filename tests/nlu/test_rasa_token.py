"""The Rasa auth token never appears on a command line (`ps` shows those to every user)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.rasa_launch import rasa_arguments
from tests.conftest import RunningNLU


def test_the_launcher_moves_the_token_from_the_environment_into_rasas_arguments() -> None:
    environ = {"NLU_AUTH_TOKEN": "-starts-with-a-dash", "OTHER": "x"}
    assert rasa_arguments(["run", "--enable-api"], environ) == [
        "rasa",
        "run",
        "--enable-api",
        "--auth-token=-starts-with-a-dash",
    ]
    assert "NLU_AUTH_TOKEN" not in environ  # Rasa's own code never sees it in os.environ
    with pytest.raises(SystemExit):
        rasa_arguments(["run"], {})


@pytest.mark.rasa
def test_no_process_shows_the_running_servers_token(nlu_server: RunningNLU) -> None:
    token = nlu_server.token.encode()
    shown = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if token in cmdline.read_bytes():
                shown.append(cmdline.parent.name)
        except OSError:
            continue  # the process ended meanwhile
    assert shown == []
