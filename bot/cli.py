"""The `ventanilla` command: the bot, its NLU model, content, staff accounts and data."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FILE = "ventanilla.log"


def configure_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format=LOG_FORMAT, stream=sys.stderr
    )
    # httpx logs request URLs, which carry bot tokens and the NLU token.
    for noisy in ("httpx", "httpcore", "telegram.ext.ExtBot", "twilio.http_client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Alembic announces each of its plugins at start-up; migrations still log.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def log_to_file(settings: Settings) -> Path:
    """Send log lines to the data folder's log file instead of the terminal (for `chat`)."""
    path = settings.data_dir / LOG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    return path


async def _with_engine(
    settings: Settings, work: Callable[[Dispatcher], Awaitable[int]], in_memory: bool = False
) -> int:
    """Run `work` with the engine; `in_memory`: conversations, state and tickets stay in
    this process (nothing written to the database), as a trial should."""
    from bot.engine import build_dispatcher
    from bot.memory_state import InMemoryStateStore
    from bot.runtime import running

    async with running(settings, _say, reuse_nlu=True) as runtime:
        if not in_memory:
            return await work(runtime.dispatcher)
        assert runtime.classifier is not None  # `running` always connects the NLU
        dispatcher = build_dispatcher(
            settings, runtime.classifier, InMemoryStateStore(), runtime.content
        )
        return await work(dispatcher)


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot.channels.render import numbered_text
    from bot.engine import build_dispatcher
    from bot.memory_state import InMemoryStateStore
    from bot.runtime import running
    from kernel.types import IncomingMessage

    async def work() -> int:
        async with running(settings, _say, reuse_nlu=True) as runtime:
            # One question from a new person, kept in memory only: trying the bot
            # leaves no conversation, ticket or state behind in the database.
            assert runtime.classifier is not None  # `running` always connects the NLU
            dispatcher = build_dispatcher(
                settings, runtime.classifier, InMemoryStateStore(), runtime.content
            )
            if args.text == "-":
                return await _ask_each_line(dispatcher, args.lang)
            result = await dispatcher.handle(
                IncomingMessage(
                    channel="cli", user_id="cli-ask", text=args.text, language_hint=args.lang
                )
            )
        if args.json:
            print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        else:
            for reply in result.replies:
                print(numbered_text(reply) + "\n")
        return 0

    return asyncio.run(work())


async def _ask_each_line(dispatcher: Dispatcher, language: str | None) -> int:
    """Batch evaluation through the engine: each line of standard input is a new person,
    each answer one JSON object per line, in the same order."""
    from kernel.types import IncomingMessage

    logging.getLogger("bot.dispatcher").setLevel(logging.WARNING)
    for number, line in enumerate(sys.stdin, start=1):
        text = line.rstrip("\n")
        result = await dispatcher.handle(
            IncomingMessage(
                channel="cli", user_id=f"cli-ask-{number}", text=text, language_hint=language
            )
        )
        print(json.dumps(result.as_dict(), ensure_ascii=False), flush=True)
    return 0


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.channels.console import chat_loop

    log_path = log_to_file(settings)

    async def work(dispatcher: Dispatcher) -> int:
        stored = "stored in the database" if args.store else "kept in memory only"
        _say(f"Ventanilla console chat ({stored}; log: {log_path}). Ctrl-D to leave.")
        await chat_loop(dispatcher.handle)
        return 0

    return asyncio.run(_with_engine(settings, work, in_memory=not args.store))


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from bot.asgi import VentanillaApp

    if args.workers > 1 and args.telegram_polling:
        _say("error: --telegram-polling needs a single worker")
        return 2
    from bot.settings import production_secret_problems

    weak = production_secret_problems(settings)
    for line in weak:
        _say(f"error: {line}")
    if weak:
        return 2
    trainer = _train_meanwhile(settings)
    try:
        problem = _database_problem(settings)
        if trainer is not None and not problem and trainer.wait() != 0:
            _say("error: training the NLU model failed (see above)")
            return 1
    finally:
        if trainer is not None and trainer.poll() is None:  # a database problem or Ctrl-C
            os.killpg(trainer.pid, signal.SIGTERM)
            trainer.wait()
    if problem:
        _say(problem)
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
    _say("No up-to-date NLU model: training one while the database is prepared ...")
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
                    _say(f"Ventanilla on {url} {detail}")
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)

    threading.Thread(target=watch, name="announce", daemon=True).start()


def _database_problem(settings: Settings) -> str | None:
    """Migrate and seed before serving, so a wrong DATABASE_URL is one clear line."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from bot.runtime import prepare_database

    try:
        asyncio.run(prepare_database(settings, _say))
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
            model = ensure_model(nlu.config, nlu.models_dir, nlu.data_dir, _say)
            server = LocalRasaServer(model, nlu.port, settings.data_dir / "nlu-server.log")
            _say(f"Starting the NLU server on {server.url} ...")
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


def cmd_content_import(settings: Settings, _: argparse.Namespace) -> int:
    from bot.db.content import ContentRepository
    from bot.db.engine import sessions
    from bot.runtime import storage

    async def work() -> int:
        async with storage(settings) as (_store, engine, _protector):
            repository = ContentRepository(sessions(engine))
            created = await repository.import_files(
                settings.content_dir, settings.languages, "import"
            )
        print(f"imported {created} changed entries from {settings.content_dir}")
        return 0

    return asyncio.run(work())


def cmd_content_export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.db.content import ContentRepository
    from bot.db.engine import sessions
    from bot.runtime import storage

    async def work() -> int:
        async with storage(settings) as (_store, engine, _protector):
            target = Path(args.to) if args.to else settings.content_dir
            written = await ContentRepository(sessions(engine)).export_files(target)
        print(f"wrote {written} changed files to {target}")
        return 0

    return asyncio.run(work())


def cmd_admin_set_password(settings: Settings, args: argparse.Namespace) -> int:
    """A new password; every open session of the account ends with it."""
    import getpass

    from bot.admin.accounts import AccountError, Accounts
    from bot.db.engine import sessions
    from bot.runtime import storage

    password = getpass.getpass(f"New password for {args.email}: ")
    if password != getpass.getpass("Repeat the password: "):
        _say("error: the passwords differ")
        return 1

    async def work() -> int:
        async with storage(settings) as (_store, engine, _protector):
            try:
                await Accounts(sessions(engine)).set_password(args.email, password)
            except AccountError as exc:
                _say(f"error: {exc}")
                return 1
        print(f"password changed for {args.email}; its sessions have ended")
        return 0

    return asyncio.run(work())


def cmd_admin_create_user(settings: Settings, args: argparse.Namespace) -> int:
    import getpass

    from bot.admin.accounts import AccountError, Accounts, Role
    from bot.db.engine import sessions
    from bot.runtime import storage

    password = getpass.getpass(f"Password for {args.email}: ")
    if password != getpass.getpass("Repeat the password: "):
        _say("error: the passwords differ")
        return 1

    async def work() -> int:
        async with storage(settings) as (_store, engine, _protector):
            try:
                staff = await Accounts(sessions(engine)).create(
                    args.email, password, Role(args.role)
                )
            except AccountError as exc:
                _say(f"error: {exc}")
                return 1
        print(f"created {staff.email} ({staff.role.value})")
        return 0

    return asyncio.run(work())


def cmd_db_upgrade(settings: Settings, _: argparse.Namespace) -> int:
    from bot.db.engine import upgrade

    upgrade(settings.database_url)
    _say("database is at the latest schema")
    return 0


def cmd_data_purge(settings: Settings, _: argparse.Namespace) -> int:
    from bot.runtime import storage

    async def purge() -> int:
        async with storage(settings) as (store, _engine, _protector):
            result = await store.purge(settings.retention_days)
        print(
            f"purged {result.messages_deleted} messages older than {settings.retention_days} days"
            f" (counts kept for {result.counted_days} days);"
            f" {result.processed_ids_deleted} old message ids forgotten"
        )
        return 0

    return asyncio.run(purge())


def cmd_data_delete_user(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runtime import storage

    async def forget() -> int:
        async with storage(settings) as (store, _engine, _protector):
            await store.forget(args.channel, args.user_id)
        print(f"everything stored about that {args.channel} user has been erased")
        return 0

    return asyncio.run(forget())


def cmd_nlu_train(settings: Settings, args: argparse.Namespace) -> int:
    from nlu.freshness import train_recorded
    from nlu.train import TrainingError

    nlu = settings.nlu
    try:
        train_recorded(nlu.config, nlu.models_dir, nlu.data_dir, _say)
    except TrainingError as exc:
        _say(f"error: {exc}")
        return 1
    return 0


def cmd_nlu_eval(settings: Settings, args: argparse.Namespace) -> int:
    from bot.evaluation import run_eval

    return asyncio.run(run_eval(settings, Path(args.file), args.json, _say))


def cmd_content_check(settings: Settings, args: argparse.Namespace) -> int:
    from bot.content import ContentError, check_bundle, load_bundle
    from nlu.training_data import intents_of, load_examples

    try:
        bundle = load_bundle(settings.content_dir, settings.languages)
    except ContentError as exc:
        _say(f"error: {exc}")
        return 1
    report = check_bundle(bundle, intents_of(load_examples(settings.nlu.data_dir)))
    for error in report.errors:
        print(f"ERROR  {error}")
    if not args.errors_only:
        print(f"\n{len(report.needs_review)} entries need review by staff:")
        for entry in sorted(report.needs_review, key=lambda e: e.key):
            print(f"  - {entry.key}: {entry.review_notes}")
        if report.expired:
            print(f"\n{len(report.expired)} entries are past their expires_on date:")
            for entry in report.expired:
                print(f"  - {entry.key} (expired {entry.expires_on})")
    keys = len(bundle.entries.get(settings.default_language, {}))
    status = "OK" if report.ok else f"{len(report.errors)} errors"
    print(f"\ncontent check: {keys} keys x {len(settings.languages)} languages: {status}")
    return 0 if report.ok else 1


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[tuple[str, str]]:
    """Every runnable command under `parser`, with its one-line help."""
    found: list[tuple[str, str]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, child in action.choices.items():
                nested = _commands(child, f"{prefix}{name} ")
                found.extend(nested or [(f"{prefix}{name}", helps.get(name, ""))])
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ventanilla",
        usage="ventanilla [--verbose] COMMAND ...",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--verbose", action="store_true", help="debug logging (never user text)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="one of:")

    run = sub.add_parser("run", help="serve the web chat (and webhooks) with a local NLU server")
    run.add_argument(
        "--telegram-polling", action="store_true", help="poll Telegram instead of a webhook"
    )
    run.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    run.set_defaults(func=cmd_run)

    chat = sub.add_parser("chat", help="talk to the bot in this terminal (options as numbers)")
    chat.add_argument(
        "--store", action="store_true", help="store the conversation (default: memory only)"
    )
    chat.set_defaults(func=cmd_chat)

    ask = sub.add_parser("ask", help="send one message and print the answer")
    ask.add_argument("text", help='the message; "-" reads one message per line from stdin')
    ask.add_argument("--json", action="store_true", help="print the full result as JSON")
    ask.add_argument("--lang", choices=["es", "en"], help="language to assume when unclear")
    ask.set_defaults(func=cmd_ask)

    nlu = sub.add_parser("nlu", help="train or evaluate the NLU model").add_subparsers(
        dest="nlu_command", required=True
    )
    train = nlu.add_parser("train", help="train a model from nlu/data into nlu/models")
    train.set_defaults(func=cmd_nlu_train)
    evaluate = nlu.add_parser("eval", help="evaluate the served model on a JSONL file")
    evaluate.add_argument("file")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.set_defaults(func=cmd_nlu_eval)

    admin = sub.add_parser("admin", help="staff accounts").add_subparsers(
        dest="admin_command", required=True
    )
    create_user = admin.add_parser("create-user", help="create a staff account (asks the password)")
    create_user.add_argument("email")
    create_user.add_argument("--role", choices=["editor", "agent", "viewer"], default="viewer")
    create_user.set_defaults(func=cmd_admin_create_user)
    set_password = admin.add_parser(
        "set-password", help="change a staff password (ends that account's sessions)"
    )
    set_password.add_argument("email")
    set_password.set_defaults(func=cmd_admin_set_password)

    database = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    database.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    data = sub.add_parser("data", help="retention and erasure").add_subparsers(
        dest="data_command", required=True
    )
    data.add_parser("purge", help="delete message texts past retention_days").set_defaults(
        func=cmd_data_purge
    )
    delete_user = data.add_parser("delete-user", help="erase everything about one user")
    delete_user.add_argument("--channel", required=True, help="telegram, whatsapp, web, ...")
    delete_user.add_argument("user_id", help="the chat id or phone number (whatsapp:+503...)")
    delete_user.set_defaults(func=cmd_data_delete_user)

    content = sub.add_parser("content", help="check curated content").add_subparsers(
        dest="content_command", required=True
    )
    check = content.add_parser("check", help="validate content and list entries to review")
    check.add_argument("--errors-only", action="store_true")
    check.set_defaults(func=cmd_content_check)
    content.add_parser(
        "import", help="load content/ into the database (new versions where text differs)"
    ).set_defaults(func=cmd_content_import)
    export = content.add_parser("export", help="write the published versions back to files")
    export.add_argument("--to", help="folder to write to (default: the content folder)")
    export.set_defaults(func=cmd_content_export)
    review = content.add_parser("review", help="list the facts staff must confirm")
    review.set_defaults(func=cmd_content_check, errors_only=False)

    commands = _commands(parser)
    width = max(len(name) for name, _help in commands) + 2
    parser.epilog = (
        "commands:\n"
        + "\n".join(f"  {name:<{width}}{text}" for name, text in commands)
        + "\n\n`ventanilla COMMAND --help` gives each command's options."
    )
    sub.help = argparse.SUPPRESS
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        settings = load_settings()
    except SettingsError as exc:
        _say(f"error: {exc}")
        return 2
    try:
        return int(args.func(settings, args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
