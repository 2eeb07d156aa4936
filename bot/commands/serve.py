"""`ventanilla run`: the web chat, webhooks and staff pages, with a local NLU server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys

from bot.commands.common import say
from bot.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser("run", help="serve the web chat (and webhooks) with a local NLU server")
    run.add_argument(
        "--telegram-polling", action="store_true", help="poll Telegram instead of a webhook"
    )
    run.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    run.set_defaults(func=cmd_run)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from bot.asgi import VentanillaApp

    if args.workers > 1 and args.telegram_polling:
        say("error: --telegram-polling needs a single worker")
        return 2
    from bot.settings import production_secret_problems

    weak = production_secret_problems(settings)
    for line in weak:
        say(f"error: {line}")
    if weak:
        return 2
    trainer = _train_meanwhile(settings)
    try:
        problem = _database_problem(settings)
        if trainer is not None and not problem and trainer.wait() != 0:
            say("error: training the NLU model failed (see above)")
            return 1
    finally:
        if trainer is not None and trainer.poll() is None:  # a database problem or Ctrl-C
            os.killpg(trainer.pid, signal.SIGTERM)
            trainer.wait()
    if problem:
        say(problem)
        return 2
    if args.workers > 1:
        return _run_workers(settings, args.workers)
    _announce_when_up(settings, "(staff pages at /admin/)")
    uvicorn.run(
        VentanillaApp(settings, args.telegram_polling),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
    )
    return 0


def _train_meanwhile(settings: Settings) -> subprocess.Popen[bytes] | None:
    """On a first run (or after the training data changed) train in another process while
    the database is migrated and seeded; the server then finds the model up to date."""
    from nlu.freshness import served_model_is_stale

    nlu = settings.nlu
    if nlu.url or not served_model_is_stale(nlu.models_dir, nlu.data_dir, nlu.config):
        return None
    say("No up-to-date NLU model: training one while the database is prepared ...")
    # Its own process group: stopping it stops Rasa's training process too.
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "nlu", "train"], start_new_session=True
    )


def _announce_when_up(settings: Settings, detail: str) -> None:
    """Say "Ventanilla on http://..." once the server answers there, not before."""
    import threading
    import time

    import httpx

    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    url = f"http://{host}:{settings.port}/"

    def watch() -> None:
        deadline = time.monotonic() + settings.nlu.startup_timeout_seconds + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "healthz", timeout=2).status_code < 500:
                    say(f"Ventanilla on {url} {detail}")
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)

    threading.Thread(target=watch, name="announce", daemon=True).start()


def _database_problem(settings: Settings) -> str | None:
    """Migrate and seed before serving, so a wrong DATABASE_URL is one clear line."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from bot.composition import prepare_database

    try:
        asyncio.run(prepare_database(settings, say))
    except SQLAlchemyError as exc:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return f"error: cannot use the database {where}: {reason}"
    return None


def _run_workers(settings: Settings, workers: int) -> int:
    """Several uvicorn workers sharing one database and one NLU server started here.

    Each worker loads the settings itself from the same environment; the address and
    token of the NLU server started here reach them through the data folder's
    `nlu-server.json` (mode 0600), as they reach `ask` and `chat`.
    """
    import uvicorn

    from bot.nlu_endpoint import Endpoint, published
    from nlu.freshness import ensure_model
    from nlu.server import LocalRasaServer

    with contextlib.ExitStack() as stack:
        nlu = settings.nlu
        if not nlu.url:
            model = ensure_model(nlu.config, nlu.models_dir, nlu.data_dir, say)
            server = LocalRasaServer(model, nlu.port, settings.data_dir / "nlu-server.log")
            say(f"Starting the NLU server on {server.url} ...")
            server.start()
            stack.callback(server.stop)
            asyncio.run(server.wait_until_ready(nlu.startup_timeout_seconds))
            stack.enter_context(
                published(settings.data_dir, Endpoint(server.url, server.auth_token))
            )
        _announce_when_up(settings, f"with {workers} workers")
        uvicorn.run(
            "bot.asgi:create_worker_app",
            factory=True,
            workers=workers,
            host=settings.host,
            port=settings.port,
            log_level="info",
            access_log=False,
        )
    return 0
