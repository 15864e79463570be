"""Counts add up, also when several threads add at once, and come out as metrics."""

from __future__ import annotations

import threading

from edge.node.health import Counters


def test_counts_from_many_threads_add_up() -> None:
    counters = Counters("parcels", "non_compliant")
    start = threading.Barrier(4)

    def add_many() -> None:
        start.wait()
        for index in range(5000):
            counters.add("parcels")
            counters.add("non_compliant", index % 2)

    threads = [threading.Thread(target=add_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counters == {"parcels": 20000, "non_compliant": 10000}
    assert counters.metrics() == {"parcels_total": 20000.0, "non_compliant_total": 10000.0}
