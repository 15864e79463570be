"""The SQLite outbox: durable, ordered, quota with audited drops, clear errors."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from edge.comms.config import OutboxConfig
from edge.events.outbox import Outbox, OutboxError, OutboxFull
from tests.edge.transport.helpers import HELPER_COMMAND, REPO


def _outbox(tmp_path: Path, **settings: Any) -> Outbox:
    return Outbox(OutboxConfig(path=tmp_path / "outbox.sqlite3", **settings))


def test_events_survive_reopen_in_order(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    for i in range(5):
        outbox.add(f"e{i}", "t", f"data{i}".encode())
    outbox.close()
    reopened = _outbox(tmp_path)
    rows = reopened.pending(10)
    assert [r.event_id for r in rows] == [f"e{i}" for i in range(5)]
    assert rows[2].data == b"data2"
    reopened.delete([rows[0].seq, rows[1].seq])
    assert [r.event_id for r in reopened.pending(10)] == ["e2", "e3", "e4"]
    assert len(reopened) == 3
    mode = sqlite3.connect(tmp_path / "outbox.sqlite3").execute("PRAGMA journal_mode").fetchone()
    assert mode == ("wal",)


def test_drop_oldest_keeps_the_newest_and_tallies_every_drop(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path, max_events=10, policy="drop_oldest")
    for i in range(15):
        outbox.add(f"e{i}", "t", b"x")
    assert [r.event_id for r in outbox.pending(100)] == [f"e{i}" for i in range(5, 15)]
    tally = outbox.drop_tally()
    assert (tally.dropped, tally.first_event_id, tally.last_event_id) == (5, "e0", "e4")
    outbox.add_audit("audit-1", "t", b"audit", tally.dropped)
    assert len(outbox) == 11, "the audit event is stored over the quota, never dropped"
    assert outbox.drop_tally().dropped == 0
    outbox.add("e15", "t", b"x")
    assert "audit-1" in [r.event_id for r in outbox.pending(100)]
    assert outbox.dropped_total == 6


def test_refuse_new_raises_and_counts(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path, max_events=10, policy="refuse_new")
    for i in range(10):
        outbox.add(f"e{i}", "t", b"x")
    with pytest.raises(OutboxFull):
        outbox.add("e10", "t", b"x")
    assert outbox.pending(1)[0].event_id == "e0"
    assert len(outbox) == 10
    tally = outbox.drop_tally()
    assert (tally.dropped, tally.first_event_id) == (1, "e10")


def test_unusable_path_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "outbox.sqlite3").mkdir()
    with pytest.raises(OutboxError, match="cannot open outbox"):
        _outbox(tmp_path)


def test_full_disk_raises_and_keeps_stored_events(tmp_path: Path) -> None:
    """A process limited to a small file size (as on a full disk) gets OutboxError, not a crash;
    what was stored before stays intact."""
    done = subprocess.run(
        [*HELPER_COMMAND, "fill", str(tmp_path / "outbox.sqlite3")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    stored, error = done.stdout.strip().split("\t")
    assert "OutboxError" in error and ("full" in error or "I/O" in error or "disk" in error)
    reopened = _outbox(tmp_path)
    assert len(reopened) == int(stored) > 0


def test_closed_outbox_raises_outbox_error(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    outbox.close()
    with pytest.raises(OutboxError):
        outbox.add("e0", "t", b"x")
    with pytest.raises(OutboxError):
        outbox.pending(1)
