"""The periodic runner behind alarm checks, gallery publishing and scheduled reports."""

from __future__ import annotations

import threading

from central.core.periodic import Periodic


def test_runs_first_on_wake_and_survives_a_failing_duty() -> None:
    calls: list[int] = []
    ran = threading.Semaphore(0)

    def duty() -> None:
        calls.append(len(calls))
        ran.release()
        if len(calls) == 2:
            raise RuntimeError("boom")

    loop = Periodic("test", period_s=3600, duty=duty, run_first=True)
    loop.start()
    assert ran.acquire(timeout=5)
    for _ in range(2):
        loop.wake()
        assert ran.acquire(timeout=5)
    loop.stop()
    assert calls == [0, 1, 2]


def test_period_elapses_without_wake_and_stop_without_start_is_safe() -> None:
    ran = threading.Event()
    loop = Periodic("test", period_s=0.01, duty=ran.set)
    loop.start()
    assert ran.wait(5)
    loop.stop()
    Periodic("idle", period_s=1, duty=lambda: None).stop()
