"""The checker counts lost, duplicated, reordered, unjournalled and redelivered events per device,
and reads journals that a SIGKILL left with a torn line."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scripts.faults.checker import (
    JournalEntry,
    JournalWriter,
    StoredRow,
    check,
    read_journal,
)

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def journal(device_id: str, count: int) -> list[JournalEntry]:
    """``count`` entries of one device with ids ``<device>-<seq>``."""
    return [JournalEntry(device_id, f"{device_id}-{seq}", seq) for seq in range(count)]


def rows(*event_ids: str) -> list[StoredRow]:
    """Stored rows in the given order (device id taken from the event id)."""
    return [
        StoredRow(event_id.rsplit("-", 1)[0], event_id, START + timedelta(milliseconds=i))
        for i, event_id in enumerate(event_ids)
    ]


def test_everything_stored_once_in_order_is_ok() -> None:
    verdict = check(journal("a", 3) + journal("b", 2), rows("a-0", "b-0", "a-1", "b-1", "a-2"))
    assert verdict.ok
    assert [(t.device_id, t.published, t.stored) for t in verdict.devices] == [
        ("a", 3, 3),
        ("b", 2, 2),
    ]
    assert (verdict.totals.published, verdict.totals.stored, verdict.totals.reordered) == (5, 5, 0)


def test_lost_and_duplicated_events_fail_the_verdict_and_are_named() -> None:
    verdict = check(journal("a", 4), rows("a-0", "a-2", "a-2", "a-3"))
    assert not verdict.ok
    tally = verdict.devices[0]
    assert (tally.lost, tally.duplicated, tally.stored) == (1, 1, 3)
    assert verdict.lost_ids == ["a-1"]
    assert verdict.duplicated_ids == ["a-2"]
    assert "FAILED" in verdict.format_table()


def test_reordering_unjournalled_and_redelivery_are_reported_but_allowed() -> None:
    stored = rows("a-1", "a-0", "a-3", "a-2", "a-9")
    deliveries = Counter({"a-0": 1, "a-1": 2, "a-2": 1, "a-3": 3})
    verdict = check(journal("a", 4), stored, deliveries)
    assert verdict.ok
    tally = verdict.totals
    assert (tally.reordered, tally.unjournalled, tally.redelivered) == (2, 1, 2)
    assert "OK: 0 lost, 0 duplicated" in verdict.format_table()


def test_device_seen_only_in_storage_is_all_unjournalled() -> None:
    verdict = check(journal("a", 1), rows("a-0", "ghost-0"))
    assert [(t.device_id, t.published, t.unjournalled) for t in verdict.devices] == [
        ("a", 1, 0),
        ("ghost", 0, 1),
    ]
    assert verdict.ok


def test_table_has_a_row_per_device_and_totals() -> None:
    table = check(journal("a", 2) + journal("b", 1), rows("a-0", "a-1")).format_table()
    lines = table.splitlines()
    assert lines[0].split() == [
        "device_id",
        "published",
        "stored",
        "lost",
        "duplicated",
        "reordered",
        "unjournalled",
        "redelivered",
    ]
    assert lines[2].split() == ["a", "2", "2", "0", "0", "0", "0", "0"]
    assert lines[3].split() == ["b", "1", "0", "1", "0", "0", "0", "0"]
    assert lines[5].split() == ["TOTAL", "3", "2", "1", "0", "0", "0", "0"]


def test_journal_round_trip_from_two_writers_skips_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with JournalWriter(path) as first, JournalWriter(path) as second:
        first.record("a", "a-0", 0)
        second.record("b", "b-0", 0)
    with path.open("a") as torn:
        torn.write('{"device_id": "a", "event_')  # what a SIGKILL mid-line would leave
    with JournalWriter(path) as restarted:
        restarted.record("a", "a-1", 1)
    assert read_journal(path) == [
        JournalEntry("a", "a-0", 0),
        JournalEntry("b", "b-0", 0),
        JournalEntry("a", "a-1", 1),
    ]


def test_missing_journal_reads_as_empty(tmp_path: Path) -> None:
    assert read_journal(tmp_path / "absent.jsonl") == []
