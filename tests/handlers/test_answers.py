from __future__ import annotations

import dataclasses
import datetime as dt

from bot.content import FileContentStore
from handlers.answers import answer, is_expired


def test_an_expired_time_bound_fact_carries_the_out_of_date_note(content: FileContentStore) -> None:
    entry = content.get("es", "documents")
    assert entry.expires_on, "documents holds fees: it must expire"
    before = dt.date.fromisoformat(entry.expires_on) - dt.timedelta(days=1)
    after = dt.date.fromisoformat(entry.expires_on) + dt.timedelta(days=1)
    note = content.get("es", "outdated_note").text
    assert answer(content, "es", "documents", today=before).text == entry.text
    stale = answer(content, "es", "documents", today=after).text
    assert stale.startswith(entry.text) and stale.endswith(note)
    assert is_expired(dataclasses.replace(entry, expires_on="2000-01-01"))
    assert not is_expired(dataclasses.replace(entry, expires_on=None))
