"""`ventanilla content check|review|import|export`: curated content, files and database."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.commands.common import say
from bot.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def cmd_content_import(settings: Settings, _: argparse.Namespace) -> int:
    from bot.composition import storage
    from bot.db.content import ContentRepository
    from bot.db.engine import sessions

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
    from bot.composition import storage
    from bot.db.content import ContentRepository
    from bot.db.engine import sessions

    async def work() -> int:
        async with storage(settings) as (_store, engine, _protector):
            target = Path(args.to) if args.to else settings.content_dir
            written = await ContentRepository(sessions(engine)).export_files(target)
        print(f"wrote {written} changed files to {target}")
        return 0

    return asyncio.run(work())


def cmd_content_check(settings: Settings, args: argparse.Namespace) -> int:
    from bot.content import ContentError, check_bundle, load_bundle
    from nlu.training_data import intents_of, load_examples

    try:
        bundle = load_bundle(settings.content_dir, settings.languages)
    except ContentError as exc:
        say(f"error: {exc}")
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
