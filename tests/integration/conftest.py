"""The engine wired to the session's real Rasa server, for the integration tests."""

from __future__ import annotations

import pytest

from bot.content import FileContentStore
from bot.dispatcher import Dispatcher
from bot.engine import build_dispatcher
from bot.memory_state import InMemoryStateStore
from bot.nlu_client import RasaClient
from bot.settings import Settings
from tests.conftest import RunningNLU, engine_text


@pytest.fixture
def real_engine(
    settings: Settings, nlu_server: RunningNLU, content: FileContentStore
) -> Dispatcher:
    client = RasaClient(nlu_server.url, nlu_server.token, timeout_seconds=10)
    return build_dispatcher(
        settings, client, InMemoryStateStore(), content, text=engine_text(settings)
    )
