"""The stack every channel test stands on, written once: a real SQLite file with the schema,
the real engine with a scripted NLU, and the real app served on 127.0.0.1 with the
channels under test; fake platform APIs are served beside it. Each test module builds
its channel on top (`stack` fixtures), so only what differs per channel is written there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.content import FileContentStore
from bot.db import engine as db
from bot.settings import Settings
from bot.web import build_app
from tests.conftest import SqliteStack, sqlite_stack, web_deps
from tests.fakes.server import serve


@dataclass
class ChannelStack:
    """`base` holds the database, store, engine and scripted NLU; `serve` and `serve_app`
    start servers that stop when the test ends."""

    base: SqliteStack
    settings: Settings
    content: FileContentStore
    exits: ExitStack

    def serve(self, app: Any, port: int | None = None) -> str:
        """Serve an ASGI app (a fake platform API, say) on 127.0.0.1; its base URL."""
        return self.exits.enter_context(serve(app, port))

    def serve_app(self, *channels: Any, port: int | None = None) -> str:
        """The real app with these channels (the web chat is always there); its base URL."""
        runtime = web_deps(
            self.settings,
            self.base.dispatcher,
            self.base.store,
            self.content,
            self.base.engine,
            self.base.protector,
        )
        return self.serve(build_app(runtime, list(channels), purge=False), port)

    def count(self, model: type) -> int:
        """Rows of a table, read on a connection of its own."""
        return count_rows(self.base.url, model)


def count_rows(database_url: str, model: type) -> int:
    engine = db.make_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(model)).scalar() or 0)
    finally:
        engine.dispose()


@contextmanager
def channel_stack_at(
    settings: Settings, content: FileContentStore, path: Path
) -> Iterator[ChannelStack]:
    """For module-scoped fixtures; tests take the `channel_stack` fixture."""
    with ExitStack() as exits:
        yield ChannelStack(sqlite_stack(settings, content, path), settings, content, exits)


@pytest.fixture
def channel_stack(
    settings: Settings, content: FileContentStore, tmp_path: Path
) -> Iterator[ChannelStack]:
    with channel_stack_at(settings, content, tmp_path / "channel.sqlite3") as stack:
        yield stack
