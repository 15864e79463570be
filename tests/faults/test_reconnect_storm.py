"""500 real edge clients lose the broker at the same instant and come back: jittered, none
refused, every event stored once (issue #7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.faults.reconnect_storm import ReconnectFigures, run_storm
from scripts.faults.stack import fault_stack

NODES = 500
ROUNDS = 4  # before the cut, while away, during the storm, after


def _figures(offsets: list[float]) -> ReconnectFigures:
    return ReconnectFigures(len(offsets), offsets, [], [], 0)


def test_bunched_reconnects_are_reported_as_no_jitter() -> None:
    bunched = _figures([1.0 + i / 1000 for i in range(10)])
    spread = _figures([i * 0.3 for i in range(10)])
    assert bunched.busiest_window_share == 1.0
    assert any("no effective jitter" in problem for problem in bunched.problems())
    assert spread.busiest_window_share == 0.1
    assert spread.problems() == []


def test_missing_nodes_and_refusals_are_problems() -> None:
    figures = ReconnectFigures(3, [0.1, 0.9], [], ["dev-1: Not authorized"], 0)
    assert figures.problems() == [
        "connection refused: dev-1: Not authorized",
        "only 2 of 3 nodes reconnected",
    ]


@pytest.mark.slow
def test_500_nodes_reconnect_with_jitter_and_lose_nothing(
    tmp_path: Path, fault_database: str
) -> None:
    with fault_stack(tmp_path / "run", fault_database, NODES) as stack:
        stack.start_ingest()
        report = run_storm(stack, down_s=3.0)
    facts = report.facts
    assert facts["reconnected"] == NODES, report.format()
    assert facts["connack_refusals"] == 0, report.format()
    assert isinstance(facts["tcp_refused_attempts"], int) and facts["tcp_refused_attempts"] > 0
    assert report.problems == [], report.format()  # includes: not all in one 100 ms window
    totals = report.verdict.totals
    assert totals.published == NODES * ROUNDS
    assert (totals.lost, totals.duplicated) == (0, 0), report.format()
    assert totals.stored == NODES * ROUNDS
