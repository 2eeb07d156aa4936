from __future__ import annotations

from bot.admin.gate import GateCase, GateReport


def test_only_regressions_need_an_override() -> None:
    report = GateReport(
        "documents",
        [
            GateCase("documents", "perdi mi dui", "documents", "documents"),
            GateCase("documents", "permiso de viaje", "child_protection", "child_protection"),
            GateCase("asylum", "me amenazan", "asylum", "fallback"),
        ],
        [],
    )
    assert [c.question for c in report.failing] == ["me amenazan"]
    assert [c.question for c in report.already_failing] == ["permiso de viaje"]
    assert report.needs_override


def test_no_regression_no_override() -> None:
    report = GateReport("documents", [GateCase("documents", "dui", "documents", "documents")], [])
    assert not report.needs_override and not report.failing
