"""Fault scenarios (issue #7): run with ``python -m scripts.faults <scenario>``; each prints the
checker's per-device table of lost, duplicated and reordered events."""
