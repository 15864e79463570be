"""A device SIGKILLed again and again mid-write keeps a sound outbox, and every event it
journalled is stored exactly once."""

from __future__ import annotations

from scripts.faults.edge_kill import EdgeKills, run_edge_kill
from scripts.faults.stack import Stack


def test_device_killed_mid_write_loses_nothing(stack: Stack) -> None:
    report = run_edge_kill(stack, EdgeKills(kills=6, rate_per_s=200.0, final_s=1.0))
    print(report.format())
    assert report.problems == []
    assert report.verdict.ok, report.verdict.lost_ids[:10]
    assert report.verdict.totals.published >= 100, "the device really published between kills"
