"""Three ``anju central ingest`` processes on one shared subscription and one PostgreSQL: one is
SIGKILLed holding an uncommitted batch while devices publish, then restarted with its client id.
Nothing is lost or stored twice, and every worker stored a share. A worker stopped for good
(SIGTERM) retires: it leaves the shared subscription, drains and ends its session, so its
share goes to the others."""

from __future__ import annotations

from dataclasses import replace

from scripts.faults.scaleout import STORED_BY, ScaleoutOptions, run_scaleout, worker_ids
from scripts.faults.stack import Stack

OPTIONS = ScaleoutOptions(workers=3, rate=20.0, duration_s=12.0, stop_after_s=4.0)


def test_killed_worker_loses_nothing_and_every_worker_stores_a_share(stack: Stack) -> None:
    report = run_scaleout(stack, OPTIONS)
    print(report.format())
    assert report.ok, report.format()
    expected = len(stack.devices) * OPTIONS.rate * OPTIONS.duration_s
    assert report.verdict.totals.published >= 0.8 * expected, report.format()
    shares = [report.facts[STORED_BY + worker] for worker in worker_ids(OPTIONS.workers)]
    assert all(isinstance(share, int) and share > 0 for share in shares), report.format()
    assert report.facts["stranded_while_stopped"], (
        "Mosquitto 2.0 keeps a dead member's share in its persistent session until it comes back"
    )


def test_worker_stopped_for_good_hands_its_share_to_the_others(stack: Stack) -> None:
    report = run_scaleout(stack, replace(OPTIONS, stop="terminate", restart=False))
    print(report.format())
    assert report.verdict.ok, report.format()
