"""Whole conversations through a real Rasa model, trained once per session, served over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.content import FileContentStore
from bot.core import IncomingMessage
from bot.dispatcher import Dispatcher
from bot.engine import build_dispatcher
from bot.memory_state import InMemoryStateStore
from bot.settings import PROJECT_ROOT, Settings
from nlu.client import RasaClient
from tests.conftest import RunningNLU

pytestmark = pytest.mark.rasa


@pytest.fixture
def real_engine(
    settings: Settings, nlu_server: RunningNLU, content: FileContentStore
) -> Dispatcher:
    client = RasaClient(nlu_server.url, nlu_server.token, timeout_seconds=10)
    return build_dispatcher(settings, client, InMemoryStateStore(), content)


async def _ask(engine: Dispatcher, text: str, user: str = "it-user") -> object:
    return await engine.handle(IncomingMessage(channel="it", user_id=user, text=text))


async def test_reintegration_question_in_spanish_and_english(
    real_engine: Dispatcher, content: FileContentStore
) -> None:
    es = await _ask(real_engine, "me deportaron de mexico, donde consigo chamba", "u-es")
    assert es.intent == "reintegration"  # type: ignore[attr-defined]
    assert es.replies[-1].text == content.get("es", "reintegration").text  # type: ignore[attr-defined]
    en = await _ask(real_engine, "I was deported from Mexico, where can I find a job?", "u-en")
    assert en.intent == "reintegration"  # type: ignore[attr-defined]
    assert en.language == "en"  # type: ignore[attr-defined]
    assert en.replies[-1].text == content.get("en", "reintegration").text  # type: ignore[attr-defined]


async def test_danger_without_keywords_reaches_emergency_and_a_human(
    real_engine: Dispatcher,
) -> None:
    result = await _ask(
        real_engine, "el patron se quedo con mi pasaporte y no me deja salir del rancho"
    )
    assert result.replies[0].content_key == "trafficking_emergency"  # type: ignore[attr-defined]
    assert result.handoff is not None  # type: ignore[attr-defined]


async def test_a_whole_conversation(real_engine: Dispatcher, content: FileContentStore) -> None:
    user = "it-conversation"
    greet = await _ask(real_engine, "buenas", user)
    assert greet.intent == "greet"  # type: ignore[attr-defined]
    picked = await _ask(real_engine, "1", user)
    first_option = greet.replies[-1].buttons[0].payload.removeprefix("topic:")  # type: ignore[attr-defined]
    assert picked.replies[0].content_key == first_option  # type: ignore[attr-defined]
    docs = await _ask(real_engine, "perdi mi dui en el camino, como saco otro?", user)
    assert docs.intent == "documents"  # type: ignore[attr-defined]
    bye = await _ask(real_engine, "muchas gracias por la info", user)
    assert bye.intent == "thank"  # type: ignore[attr-defined]


async def test_gibberish_and_french_never_reach_a_confident_guess(real_engine: Dispatcher) -> None:
    for text, route in [
        ("asdkjh qwpoeiru zxmcnv", "unknown_words"),
        ("Bonjour, je voudrais savoir comment avoir un visa pour vous", "other_language"),
    ]:
        result = await _ask(real_engine, text)
        assert result.route == route  # type: ignore[attr-defined]


async def test_nlu_server_down_gives_apology_and_menu(
    settings: Settings, content: FileContentStore
) -> None:
    from tests.conftest import free_port

    client = RasaClient(f"http://127.0.0.1:{free_port()}", "x", timeout_seconds=1)
    engine = build_dispatcher(settings, client, InMemoryStateStore(), content)
    result = await _ask(engine, "necesito un pasaporte")
    assert result.route == "nlu_unavailable"  # type: ignore[attr-defined]
    assert result.replies[-1].buttons  # type: ignore[attr-defined]


def test_ask_command_prints_json(nlu_server: RunningNLU, settings: Settings) -> None:
    env = {
        **os.environ,
        "NLU_URL": nlu_server.url,
        "NLU_AUTH_TOKEN": nlu_server.token,
        "VENTANILLA_DATA_DIR": str(settings.data_dir),
    }

    def ask(text: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "ask", text, "--json"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )

    out = ask("me deportaron de mexico, donde consigo chamba")
    data = json.loads(out.stdout)
    assert set(data) >= {"intent", "confidence", "language", "replies", "handoff"}
    assert data["intent"] == "reintegration" and data["language"] == "es"
    assert "chamba" not in out.stderr, "user text must never reach the logs"
    # Each ask is a new person and leaves nothing behind: an emergency asked twice
    # gets the emergency answer twice, never "your message went to the team".
    for _ in range(2):
        emergency = json.loads(ask("me tienen encerrado y no me dejan salir").stdout)
        assert emergency["route"].startswith("safety") and emergency["handoff"]
