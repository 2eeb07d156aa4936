"""What the storage tests share: the people they use and a scan of every stored value."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content import FileContentStore
from bot.db.models import Base
from bot.db.store import SqlStore
from bot.engine import build_dispatcher
from bot.settings import Settings
from tests.conftest import ScriptedClassifier, engine_text

PHONE = "whatsapp:+50370001234"
CHAT_ID = "987654321"


def dispatcher_for(
    settings: Settings, store: SqlStore, classifier: ScriptedClassifier, content: FileContentStore
):  # type: ignore[no-untyped-def]
    return build_dispatcher(settings, classifier, store, content, text=engine_text(settings))


async def scan_for(database: AsyncEngine, needles: list[str]) -> list[str]:
    """Every text-like value of every row of every table that contains one of the needles."""
    found: list[str] = []
    async with database.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in (await connection.execute(table.select())).all():
                for column, value in zip(table.columns, row, strict=True):
                    blob = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    found += [f"{table.name}.{column.name}" for n in needles if n in blob]
    return found
