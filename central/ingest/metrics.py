"""Prometheus counters of ingest outcomes (the default registry, served by /metrics)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Summary

STORED = Counter("anju_ingest_stored_total", "Events stored by ingest.")
DUPLICATES = Counter("anju_ingest_duplicates_total", "Events received again and not stored twice.")
REJECTED = Counter("anju_ingest_rejected_total", "Messages refused by ingest.", ["reason"])
IGNORED = Counter(
    "anju_ingest_ignored_total", "Messages under the subscription that are not events."
)
BATCHES = Counter("anju_ingest_batches_total", "Transactions committed by ingest.")
WAITING = Gauge("anju_ingest_waiting_messages", "Messages received and not yet stored.")
LAG = Gauge("anju_ingest_lag_seconds", "How far the freshest stored event was behind.")

STAGES = ("parse", "precheck", "verify", "insert", "commit", "rules", "ack")
"""The stages of a batch, in order: parse (JSON, schema, topic), precheck (device, site, the
signed bytes), verify (signatures), insert, commit, rules (the after-commit hooks), ack."""
STAGE_SECONDS = Summary(
    "anju_ingest_stage_seconds", "Time ingest spent in each stage of its batches.", ["stage"]
)
STAGE_CPU_SECONDS = Counter(
    "anju_ingest_stage_cpu_seconds",
    "CPU time of the ingest thread running each stage (waits for the database or for other "
    "threads excluded).",
    ["stage"],
)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Add the wall and CPU time spent inside the block to stage ``name``."""
    wall, cpu = time.perf_counter(), time.thread_time()
    try:
        yield
    finally:
        STAGE_SECONDS.labels(stage=name).observe(time.perf_counter() - wall)
        STAGE_CPU_SECONDS.labels(stage=name).inc(time.thread_time() - cpu)
