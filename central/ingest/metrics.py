"""Prometheus counters of ingest outcomes (the default registry, served by /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

STORED = Counter("anju_ingest_stored_total", "Events stored by ingest.")
DUPLICATES = Counter("anju_ingest_duplicates_total", "Events received again and not stored twice.")
REJECTED = Counter("anju_ingest_rejected_total", "Messages refused by ingest.", ["reason"])
IGNORED = Counter(
    "anju_ingest_ignored_total", "Messages under the subscription that are not events."
)
BATCHES = Counter("anju_ingest_batches_total", "Transactions committed by ingest.")
WAITING = Gauge("anju_ingest_waiting_messages", "Messages received and not yet stored.")
LAG = Gauge("anju_ingest_lag_seconds", "How far the freshest stored event was behind.")
