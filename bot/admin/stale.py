"""The stale-content report: which answers are unconfirmed, and how old each confirmation is.

A fact checked long ago may have changed (a fee, a programme, a court ruling), so
staff see on the dashboard how many days ago every answer was last reviewed and
which are older than `content.stale_after_days` (config.yml, default 180).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from kernel.types import ContentEntry

# Engine messages (kind system) hold no facts worth re-checking on a schedule.
REVIEWED_KINDS = frozenset({"intent", "topic"})


@dataclass(frozen=True)
class StaleRow:
    key: str
    title: str
    reviewed_on: str | None
    age_days: int | None  # None: never reviewed
    needs_review: bool
    stale: bool


@dataclass(frozen=True)
class StaleReport:
    rows: tuple[StaleRow, ...]
    stale_after_days: int

    @property
    def unconfirmed(self) -> int:
        return sum(row.needs_review for row in self.rows)

    @property
    def stale(self) -> int:
        return sum(row.stale for row in self.rows)


def _age(reviewed_on: str | None, today: dt.date) -> int | None:
    if not reviewed_on:
        return None
    try:
        return (today - dt.date.fromisoformat(reviewed_on)).days
    except ValueError:
        return None


def stale_report(
    entries: Iterable[ContentEntry], today: dt.date, stale_after_days: int
) -> StaleReport:
    """One row per answer people read, oldest confirmation first."""
    rows = []
    for entry in entries:
        if entry.kind not in REVIEWED_KINDS:
            continue
        age = _age(entry.reviewed_on, today)
        rows.append(
            StaleRow(
                key=entry.key,
                title=entry.title,
                reviewed_on=entry.reviewed_on,
                age_days=age,
                needs_review=entry.needs_review,
                stale=age is None or age > stale_after_days,
            )
        )
    rows.sort(key=lambda r: (-(r.age_days if r.age_days is not None else 10**6), r.key))
    return StaleReport(rows=tuple(rows), stale_after_days=stale_after_days)
