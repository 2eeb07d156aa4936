"""Retraining end to end with a real (deliberately undertrained) model: it is evaluated
against the serving one and, being worse, kept aside while the old model keeps serving."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.admin.i18n import using
from bot.admin.retrain import Retrainer
from bot.admin.retrain_progress import stored
from bot.db import engine as db
from bot.db.content import ContentRepository
from bot.nlu_client import RasaClient
from bot.nlu_endpoint import Endpoint
from bot.settings import Settings
from nlu.server import LocalRasaServer
from tests.conftest import RunningNLU, free_port

pytestmark = pytest.mark.rasa


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_worse_model_is_not_swapped_in(
    settings: Settings, database: AsyncEngine, nlu_server: RunningNLU, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    local = dataclasses.replace(settings, nlu=dataclasses.replace(settings.nlu, models_dir=models))
    serving = LocalRasaServer(nlu_server.model, free_port(), tmp_path / "serving.log")
    serving.start()
    endpoint = Endpoint(serving.url, serving.auth_token, serving, tmp_path)
    client = RasaClient(serving.url, serving.auth_token, timeout_seconds=10)
    try:
        await serving.wait_until_ready(240)
        repository = ContentRepository(db.sessions(database))
        await repository.import_files(settings.content_dir, settings.languages, "test")
        retrainer = Retrainer(local, db.sessions(database), repository, client, endpoint)
        job_id = await retrainer.start("editor@example.org")
        with pytest.raises(RuntimeError):
            await retrainer.start("someone-else@example.org")  # one at a time
        await retrainer.wait()
        job = (await retrainer.jobs())[0]
        assert job.id == job_id and job.status == "kept_old", job.progress
        scores = json.loads(job.result)
        assert scores["held_out_new"] < scores["held_out_old"]
        assert client.base_url == serving.url and endpoint.local is serving
        assert list(models.glob("*.tar.gz")) == []  # never served after a restart
        assert len(list((models / "rejected").glob("*.tar.gz"))) == 1
        assert any("training on" in line for line in retrainer.progress[job_id].lines)
        with using("es"):  # as a Spanish-speaking editor reads the stored job
            shown = stored(job.progress)
        assert shown[0] == "en cola" and shown[-1].startswith("el modelo nuevo es peor")
        assert any(line.startswith("Entrenando con ") for line in shown)
    finally:
        await client.aclose()
        endpoint.stop()
