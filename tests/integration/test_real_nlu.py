"""Whole conversations through a real Rasa model, trained once per session, served over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.content import FileContentStore
from bot.dispatcher import Dispatcher
from bot.engine import build_dispatcher
from bot.memory_state import InMemoryStateStore
from bot.nlu_client import BATCH_PATH, PARSE_PATH, RasaClient
from bot.settings import PROJECT_ROOT, Settings
from handlers.answers import answer
from kernel.types import IncomingMessage
from tests.conftest import RunningNLU, engine_text

pytestmark = pytest.mark.rasa


def cli_env(nlu_server: RunningNLU, settings: Settings) -> dict[str, str]:
    """The environment for a `ventanilla` command that uses the session's NLU server."""
    return {
        **os.environ,
        "NLU_URL": nlu_server.url,
        "NLU_AUTH_TOKEN": nlu_server.token,
        "VENTANILLA_DATA_DIR": str(settings.data_dir),
    }


async def _ask(engine: Dispatcher, text: str, user: str = "it-user") -> object:
    return await engine.handle(IncomingMessage(channel="it", user_id=user, text=text))


async def test_reintegration_question_in_spanish_and_english(
    real_engine: Dispatcher, content: FileContentStore
) -> None:
    es = await _ask(real_engine, "me deportaron de mexico, donde consigo chamba", "u-es")
    assert es.intent == "reintegration"  # type: ignore[attr-defined]
    assert es.replies[-1].text == answer(content, "es", "reintegration").text  # type: ignore[attr-defined]
    en = await _ask(real_engine, "I was deported from Mexico, where can I find a job?", "u-en")
    assert en.intent == "reintegration"  # type: ignore[attr-defined]
    assert en.language == "en"  # type: ignore[attr-defined]
    assert en.replies[-1].text == answer(content, "en", "reintegration").text  # type: ignore[attr-defined]


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
    engine = build_dispatcher(
        settings, client, InMemoryStateStore(), content, text=engine_text(settings)
    )
    result = await _ask(engine, "necesito un pasaporte")
    assert result.route == "nlu_unavailable"  # type: ignore[attr-defined]
    assert result.replies[-1].buttons  # type: ignore[attr-defined]


def test_ask_command_prints_json(nlu_server: RunningNLU, settings: Settings) -> None:
    env = cli_env(nlu_server, settings)

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


def test_ask_reads_one_message_per_line_and_prints_one_json_each(
    nlu_server: RunningNLU, settings: Settings, tmp_path: Path
) -> None:
    env = cli_env(nlu_server, settings)
    lines = ["me tienen encerrado y no me dejan salir", "hola", "42", ""]
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "-", "--json"],
        cwd=PROJECT_ROOT,
        env=env,
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(results) == len(lines)
    # Each line is a new person: the emergency does not turn the next line into inbox mail.
    assert results[0]["route"] == "safety_emergency" and results[0]["handoff"]
    assert results[1]["intent"] == "greet" and results[1]["route"] != "to_inbox"
    assert results[2]["route"] == "number_out_of_range"
    assert results[3]["route"] == "empty"


def test_eval_goes_through_the_engine_and_scores_a_safety_file(
    nlu_server: RunningNLU, settings: Settings, tmp_path: Path
) -> None:
    env = cli_env(nlu_server, settings)
    intents = tmp_path / "intents.jsonl"
    intents.write_text(
        "\n".join(
            json.dumps(row, ensure_ascii=False)
            for row in [
                {
                    "text": "hola, buenas. como saco mi pasaporte?",
                    "intent": "documents",
                    "lang": "es",
                    "style": "multi",
                },
                {"text": "gracias", "intent": "thank", "lang": "es", "style": "slang"},
            ]
        ),
        encoding="utf-8",
    )
    safety = tmp_path / "safety.jsonl"
    safety.write_text(
        "\n".join(
            json.dumps(row, ensure_ascii=False)
            for row in [
                {"text": "ya no quiero vivir", "danger": True, "kind": "self_harm", "lang": "es"},
                {
                    "text": "cuanto cuesta el pasaporte",
                    "danger": False,
                    "kind": "none",
                    "lang": "es",
                },
            ]
        ),
        encoding="utf-8",
    )

    def run(path: Path) -> str:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "nlu", "eval", str(path), "--json"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        ).stdout

    report = json.loads(run(intents))
    assert set(report) == {"engine", "rasa", "baseline"}
    assert set(report["engine"]["accuracy_by_style"]) == {"multi", "slang"}
    assert json.loads(run(safety)) == {
        "danger_lines": 1,
        "caught": 1,
        "safe_lines": 1,
        "false_alarms": 0,
        "missed_kinds": [],
        "false_alarm_kinds": [],
    }


def _published_server(nlu_server: RunningNLU, data_dir: Path) -> dict[str, str]:
    """A data folder where `ventanilla run` has left its NLU server's address, and an
    environment that would otherwise make the CLI start its own server."""
    from bot.nlu_endpoint import RUNNING_FILE

    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / RUNNING_FILE).write_text(
        json.dumps({"url": nlu_server.url, "auth_token": nlu_server.token, "pid": 1})
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NLU_URL", "NLU_AUTH_TOKEN")}
    return {**env, "VENTANILLA_DATA_DIR": str(data_dir)}


def test_ask_uses_the_nlu_server_already_running(nlu_server: RunningNLU, tmp_path: Path) -> None:
    env = _published_server(nlu_server, tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "buenas", "--json"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert f"Using the NLU server running on {nlu_server.url}" in done.stderr
    assert "Starting the NLU server" not in done.stderr
    assert json.loads(done.stdout)["intent"] == "greet"


def test_chat_keeps_logs_out_of_the_terminal_and_stores_nothing(
    nlu_server: RunningNLU, tmp_path: Path
) -> None:
    import sqlite3

    data_dir = tmp_path / "data"
    env = _published_server(nlu_server, data_dir)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"],
        input="hola\nquiero hablar con una persona del equipo\n",
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    terminal = done.stdout + done.stderr
    assert " INFO " not in terminal and " WARNING " not in terminal, terminal
    assert "\n1. " in done.stdout  # options as numbers
    assert "message handled" in (data_dir / "ventanilla.log").read_text()
    with sqlite3.connect(data_dir / "ventanilla.sqlite3") as database:
        tickets = database.execute("SELECT count(*) FROM handoff_tickets").fetchone()[0]
        messages = database.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert (tickets, messages) == (0, 0)  # a terminal trial leaves nothing for staff


async def test_questions_we_do_not_cover_get_out_of_scope_not_a_topic(
    real_engine: Dispatcher,
) -> None:
    for text in (
        "quien gano el partido del barcelona anoche",
        "what's the best recipe for chocolate cake",
    ):
        result = await _ask(real_engine, text, "u-oos")
        assert result.intent == "out_of_scope", text  # type: ignore[attr-defined]


async def test_parse_response_carries_the_embedding_models_ranking(
    nlu_server: RunningNLU,
) -> None:
    """The Rasa server itself runs the sentence-encoder featurizer and our classifier."""
    client = RasaClient(nlu_server.url, nlu_server.token, timeout_seconds=10, cache_size=0)
    try:
        english = await client.classify("I was sent back from the US yesterday, what happens now?")
        spanish = await client.classify("me van a deportar, que pasa cuando llegue al aeropuerto?")
    finally:
        await client.aclose()
    assert english.intent == spanish.intent == "returnee_reception"
    names = [name for name, _ in english.ranking]
    assert "out_of_scope" in names and len(names) == len(set(names)) > 10


async def test_the_batch_route_answers_as_model_parse_does_and_checks_its_token(
    nlu_server: RunningNLU,
) -> None:
    """One request for a message and its sentences: the same readings as one request each."""
    texts = [
        "hola buenas, me deportaron ayer. donde saco el dui",
        "hola buenas",
        "donde saco el dui",
    ]
    params = {"token": nlu_server.token}
    async with httpx.AsyncClient(base_url=nlu_server.url, timeout=30) as http:
        together = await http.post(BATCH_PATH, params=params, json={"texts": texts})
        alone = [
            (await http.post(PARSE_PATH, params=params, json={"text": t})).json() for t in texts
        ]
        refused = await http.post(BATCH_PATH, params={"token": "wrong"}, json={"texts": texts})
        no_token = await http.post(BATCH_PATH, json={"texts": texts})
        empty = await http.post(BATCH_PATH, params=params, json={"texts": []})
        too_many = await http.post(BATCH_PATH, params=params, json={"texts": ["hola"] * 33})
    assert together.status_code == 200
    results = together.json()["results"]
    assert [r["text"] for r in results] == texts
    for batched, single in zip(results, alone, strict=True):
        assert [i["name"] for i in batched["intent_ranking"]] == [
            i["name"] for i in single["intent_ranking"]
        ]
        for a, b in zip(batched["intent_ranking"], single["intent_ranking"], strict=True):
            assert a["confidence"] == pytest.approx(b["confidence"], abs=1e-6)
    assert refused.status_code == no_token.status_code == 401
    assert empty.status_code == too_many.status_code == 400
