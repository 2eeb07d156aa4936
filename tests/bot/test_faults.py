"""Faults, short versions: the NLU dies and comes back, the database is gone.

Twilio must never see a 5xx, and people must always get an answer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bot.channels.whatsapp import WhatsAppChannel, WhatsAppConfig
from bot.content import FileContentStore
from bot.db import engine as db
from bot.db.store import SqlStore
from bot.engine import build_dispatcher
from bot.nlu_client import RasaClient
from bot.privacy import Protector
from bot.settings import Settings
from bot.web import build_app
from handlers.answers import answer
from kernel.types import IncomingMessage
from tests.conftest import engine_text, free_port, web_deps
from tests.fakes.nlu_server import fake_nlu
from tests.fakes.server import serve

pytestmark = pytest.mark.slow  # the NLU and the database go away

TOKEN = "fault-test-token"
PUBLIC = "https://bot.example.org"


def _signed_post(url: str, body: str, sid: str) -> httpx.Response:
    params = {"From": "whatsapp:+50370001111", "Body": body, "MessageSid": sid, "NumMedia": "0"}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/webhooks/whatsapp", params)
    return httpx.post(
        url + "/webhooks/whatsapp",
        data=params,
        headers={"X-Twilio-Signature": signature},
        timeout=15,
    )


def test_nlu_killed_during_traffic_then_back(
    settings: Settings, content: FileContentStore, tmp_path: Path
) -> None:
    nlu_port = free_port()
    database_url = f"sqlite:///{tmp_path / 'faults.sqlite3'}"
    db.upgrade(database_url)
    engine = db.make_async_engine(database_url)
    protector = Protector("fault-secret-" + "f" * 40)
    store = SqlStore(db.sessions(engine), protector)
    client = RasaClient(f"http://127.0.0.1:{nlu_port}", "", timeout_seconds=2)
    dispatcher = build_dispatcher(settings, client, store, content, text=engine_text(settings))
    channel = WhatsAppChannel(
        WhatsAppConfig("AC" + "2" * 32, TOKEN, "whatsapp:+1", PUBLIC),
        dispatcher.handle,
        store.contact_state,
        store.record_delivery_failure,
    )
    runtime = web_deps(settings, dispatcher, store, content, engine, protector)
    documents = answer(content, "es", "documents").text
    apology = content.get("es", "nlu_unavailable").text
    with serve(build_app(runtime, [channel], purge=False)) as url:
        with serve(fake_nlu("documents"), port=nlu_port):
            up = _signed_post(url, "necesito el pasaporte", "SMa1")
            assert up.status_code == 200 and documents in up.text
        down = [_signed_post(url, f"necesito el dui numero {i}", f"SMb{i}") for i in range(5)]
        assert all(r.status_code == 200 and apology in r.text for r in down)
        with serve(fake_nlu("documents"), port=nlu_port):
            back = _signed_post(url, "y la partida de nacimiento", "SMc1")
            assert back.status_code == 200 and documents in back.text
        metrics = httpx.get(url + "/metrics").text
    assert "ventanilla_nlu_errors_total 5" in metrics
    assert 'route="nlu_unavailable"' in metrics


async def test_database_gone_replies_still_go_out(
    settings: Settings, content: FileContentStore
) -> None:
    gone = f"postgresql+psycopg://nobody:nothing@127.0.0.1:{free_port()}/none?connect_timeout=1"
    engine = db.make_async_engine(gone)
    store = SqlStore(db.sessions(engine), Protector("fault-secret-" + "g" * 40))

    class DocumentsNLU:
        async def classify(self, text: str):  # type: ignore[no-untyped-def]
            from kernel.types import IntentResult

            return IntentResult("documents", 0.95, (("documents", 0.95),))

        async def classify_many(self, texts):  # type: ignore[no-untyped-def]
            return [await self.classify(text) for text in texts]

    dispatcher = build_dispatcher(
        settings, DocumentsNLU(), store, content, text=engine_text(settings)
    )
    results = await asyncio.gather(
        *(
            dispatcher.handle(
                IncomingMessage(
                    channel="web", user_id=f"u{i}", text="necesito el pasaporte", message_id=f"m{i}"
                )
            )
            for i in range(3)
        )
    )
    await engine.dispose()
    assert all(r.replies[-1].text == answer(content, "es", "documents").text for r in results)
    assert dispatcher.metrics.value("ventanilla_dropped_writes_total") == 3
    assert dispatcher.metrics.value("ventanilla_store_errors_total", operation="load") == 3
