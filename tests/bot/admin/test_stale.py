"""The stale-content report on the dashboard: unconfirmed answers and the age of each review."""

from __future__ import annotations

import datetime as dt

from bot.admin.stale import stale_report
from bot.settings import Settings, load_settings
from kernel.types import ContentEntry

TODAY = dt.date(2027, 7, 1)


def _entry(key: str, reviewed_on: str | None, needs_review: bool = False, kind: str = "intent"):  # type: ignore[no-untyped-def]
    return ContentEntry(
        key=key,
        language="es",
        kind=kind,
        title=key,
        text="x",
        reviewed_on=reviewed_on,
        needs_review=needs_review,
    )


def test_rows_show_age_and_staleness_oldest_first() -> None:
    report = stale_report(
        [
            _entry("fresh", "2027-06-01"),
            _entry("old", "2026-12-01", needs_review=True),
            _entry("edge", "2027-01-02"),  # exactly 180 days: not yet stale
            _entry("never", None),
            _entry("fallback", "2020-01-01", kind="system"),  # engine message: not listed
        ],
        TODAY,
        stale_after_days=180,
    )
    assert [(r.key, r.age_days, r.stale) for r in report.rows] == [
        ("never", None, True),
        ("old", 212, True),
        ("edge", 180, False),
        ("fresh", 30, False),
    ]
    assert report.unconfirmed == 1
    assert report.stale == 2


def test_the_age_is_configurable(settings: Settings) -> None:
    assert settings.content_stale_after_days == 180
    custom = load_settings(env={"VENTANILLA_CONTENT_STALE_AFTER_DAYS": "30"})
    assert custom.content_stale_after_days == 30
    report = stale_report([_entry("a", "2027-05-01")], TODAY, custom.content_stale_after_days)
    assert report.rows[0].stale
