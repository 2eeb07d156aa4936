"""A real Rasa model, trained once per test session, served by a real `rasa run` process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.settings import Settings
from nlu.server import LocalRasaServer
from nlu.train import train_model
from tests.conftest import free_port


@dataclass(frozen=True)
class RunningNLU:
    url: str
    token: str
    model: Path


@pytest.fixture(scope="session")
def trained_model(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_model(
        settings.nlu.config,
        tmp_path_factory.mktemp("models"),
        data_dir=settings.nlu.data_dir,
        report=lambda line: print(line, flush=True),
    )


@pytest.fixture(scope="session")
def nlu_server(
    trained_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningNLU]:
    log_path = tmp_path_factory.mktemp("nlu-log") / "rasa.log"
    server = LocalRasaServer(trained_model, free_port(), log_path)
    server.start()
    try:
        asyncio.run(server.wait_until_ready(240))
        yield RunningNLU(server.url, server.auth_token, trained_model)
    finally:
        server.stop()
