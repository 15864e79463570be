"""The ingest worker SIGKILLed with a batch inserted but not committed, and at random times,
then restarted on the same broker session: every journalled event is stored exactly once."""

from __future__ import annotations

from scripts.faults.central_kill import CentralKills, run_central_kill
from scripts.faults.stack import Stack


def test_ingest_killed_before_commit_and_at_random_loses_nothing(stack: Stack) -> None:
    report = run_central_kill(stack, CentralKills(hook_kills=2, random_kills=2))
    print(report.format())
    assert report.problems == []
    assert report.verdict.ok, report.verdict.lost_ids[:10]
    assert all(tally.published > 0 for tally in report.verdict.devices)
