"""Retraining from the staff pages: train in the background, evaluate, swap only if not worse.

The candidate is trained on everything except a fixed held-out tenth of the
training data, then compared with the serving model on that tenth and on the
staff's test questions. The serving model has seen the held-out tenth, so
"not worse" is a conservative bar. A rejected model is moved aside, so a
restart never serves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.admin import retrain_progress as said
from bot.admin.retrain_progress import Progress
from bot.db.content import ContentRepository
from bot.db.models import RetrainJob, TrainingExample, utcnow
from bot.nlu_client import RasaClient
from bot.nlu_endpoint import Endpoint
from bot.settings import PROJECT_ROOT, Settings
from kernel.translatable import N_, Message
from nlu.evaluate import read_jsonl
from nlu.holdout import split
from nlu.train import train_model
from nlu.training_data import Example, load_examples

log = logging.getLogger(__name__)
HELD_OUT_FRACTION = 0.1
ALREADY_RUNNING = N_("A retraining is already running.")  # translated where it is shown


async def accuracy(client: RasaClient, cases: Sequence[tuple[str, str]]) -> float:
    if not cases:
        return 1.0
    hits = 0
    for text, intent in cases:
        with contextlib.suppress(Exception):  # an unanswered case counts as a miss
            hits += (await client.classify(text)).intent == intent
    return hits / len(cases)


class Retrainer:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        repository: ContentRepository,
        client: RasaClient,
        endpoint: Endpoint,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._repository = repository
        self._client = client
        self._endpoint = endpoint
        self.progress: dict[int, Progress] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self, actor: str) -> int:
        if self.running:
            raise RuntimeError(ALREADY_RUNNING)
        async with self._sessions.begin() as session:
            job = RetrainJob(status="running", started_by=actor)
            session.add(job)
            await session.flush()
            job_id = job.id
        self.progress[job_id] = Progress([Message(said.QUEUED)])
        self._task = asyncio.create_task(self._run(job_id))
        return job_id

    async def wait(self) -> None:
        if self._task is not None:
            await self._task

    async def jobs(self) -> list[RetrainJob]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(RetrainJob).order_by(RetrainJob.id.desc()).limit(20)
            )
            return list(rows.scalars())

    def _development_set(self) -> list[tuple[str, str]]:
        """In development only, the shared evaluation set beside the project, if present.

        Nothing at run time depends on it: in production, or without the file, it is skipped.
        """
        if self._settings.is_production:
            return []
        path = PROJECT_ROOT.parent / "shared" / "eval" / "dev_nlu.jsonl"
        if not path.exists():
            return []
        return [(item.text, item.intent) for item in read_jsonl(path)]

    async def _examples(self) -> list[Example]:
        examples = load_examples(self._settings.nlu.data_dir)
        async with self._sessions() as session:
            rows = await session.execute(select(TrainingExample))
            examples += [Example(r.text, r.intent, r.language) for r in rows.scalars()]
        return examples

    async def _finish(
        self, job_id: int, status: str, result: Mapping[str, object], model: Path | None
    ) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(RetrainJob)
                .where(RetrainJob.id == job_id)
                .values(
                    status=status,
                    result=json.dumps(result),
                    progress=self.progress[job_id].dumps(),
                    model_path=str(model) if model else None,
                    finished_at=utcnow(),
                )
            )

    async def _run(self, job_id: int) -> None:
        progress = self.progress[job_id]
        model: Path | None = None
        try:
            examples = await self._examples()
            train, held = split(examples, HELD_OUT_FRACTION)
            progress.add(Message(said.TRAINING, train=len(train), held=len(held)))
            model = await self._train(train, progress)
            progress.add(Message(said.STARTING))
            candidate = await self._endpoint.start_candidate(
                model, self._settings.nlu.startup_timeout_seconds
            )
            candidate_client = RasaClient(candidate.url, candidate.auth_token)
            scores = await self._scores(candidate_client, held, examples, progress)
            await candidate_client.aclose()
            if _not_worse(scores):
                self._endpoint.adopt(candidate)
                self._client.switch(candidate.url, candidate.auth_token)
                progress.add(Message(said.SWAPPED))
                await self._finish(job_id, "swapped", scores, model)
            else:
                candidate.stop()
                rejected = model.parent / "rejected"
                rejected.mkdir(exist_ok=True)
                shutil.move(str(model), rejected / model.name)
                progress.add(Message(said.KEPT_OLD))
                await self._finish(job_id, "kept_old", scores, rejected / model.name)
        except Exception as exc:
            log.exception("retraining failed")
            progress.add(Message(said.FAILED, error=f"{type(exc).__name__}: {exc}"))
            await self._finish(job_id, "failed", {"error": str(exc)}, model)

    async def _train(self, examples: list[Example], progress: Progress) -> Path:
        """Train in a thread; Rasa's progress lines reach the page through the event loop."""
        loop = asyncio.get_running_loop()

        def report(line: str) -> None:
            loop.call_soon_threadsafe(progress.add, line)

        return await asyncio.to_thread(
            train_model,
            self._settings.nlu.config,
            self._settings.nlu.models_dir,
            examples=examples,
            report=report,
        )

    async def _scores(
        self,
        candidate: RasaClient,
        held: list[Example],
        examples: list[Example],
        progress: Progress,
    ) -> dict[str, float]:
        """Accuracy of the candidate ("_new") and the serving model ("_old") on each set."""
        held_cases = [(e.text, e.intent) for e in held]
        test_cases = [
            (text, key)
            for key, _, text in await self._repository.test_questions()
            if key in {e.intent for e in examples}
        ]
        progress.add(Message(said.EVALUATING, held=len(held_cases), tests=len(test_cases)))
        scores = {
            "held_out_new": await accuracy(candidate, held_cases),
            "held_out_old": await accuracy(self._client, held_cases),
            "tests_new": await accuracy(candidate, test_cases),
            "tests_old": await accuracy(self._client, test_cases),
        }
        dev_cases = self._development_set()
        if dev_cases:
            progress.add(Message(said.DEVELOPMENT, count=len(dev_cases)))
            scores["dev_new"] = await accuracy(candidate, dev_cases)
            scores["dev_old"] = await accuracy(self._client, dev_cases)
        return scores


def _not_worse(scores: Mapping[str, float]) -> bool:
    return all(
        scores[f"{name}_new"] >= scores[f"{name}_old"]
        for name in ("held_out", "tests", "dev")
        if f"{name}_new" in scores
    )
