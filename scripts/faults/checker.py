"""Jepsen-style accounting of a fault run: what each device published against what central stored.

The *journal* is an append-only JSON-lines file, one ``{"device_id", "event_id", "seq"}`` line
written right after ``EventPublisher.publish`` returned (the event is durably in the outbox).
A SIGKILL can at worst leave an event stored but not journalled (``unjournalled``, never lost),
or a torn last line, which ``read_journal`` skips and logs.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import select

from central.db.events_models import Event
from central.db.session import make_engine

log = logging.getLogger(__name__)
TOTAL = "TOTAL"
STATUS_KIND = "device.status"


@dataclass(frozen=True)
class JournalEntry:
    """One event a device published: its id and the device's sequence number for it."""

    device_id: str
    event_id: str
    seq: int


@dataclass(frozen=True)
class StoredRow:
    """One row of central's ``events`` table."""

    device_id: str
    event_id: str
    received_at: datetime


class JournalWriter:
    """Appends journal lines, each in one ``write`` so concurrent writers never interleave; a
    torn last line left by a killed writer is ended first, so it cannot swallow the next."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if _ends_torn(path):
            os.write(self._fd, b"\n")

    def record(self, device_id: str, event_id: str, seq: int) -> None:
        """Append one entry; it reaches the kernel before this returns (survives a SIGKILL)."""
        line = json.dumps({"device_id": device_id, "event_id": event_id, "seq": seq})
        os.write(self._fd, (line + "\n").encode())

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _ends_torn(path: Path) -> bool:
    with path.open("rb") as journal:
        if journal.seek(0, os.SEEK_END) == 0:
            return False
        journal.seek(-1, os.SEEK_END)
        return journal.read(1) != b"\n"


def read_journal(path: Path) -> list[JournalEntry]:
    """Every complete entry of the journal at ``path``, in file order; torn lines are logged
    and skipped (their events count as unjournalled if stored)."""
    entries: list[JournalEntry] = []
    if not path.exists():
        return entries
    for number, line in enumerate(
        path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1
    ):
        if not line:
            continue
        try:
            item = json.loads(line)
            entries.append(JournalEntry(str(item["device_id"]), str(item["event_id"]), item["seq"]))
        except (ValueError, KeyError, TypeError):
            log.warning("journal line skipped path=%s line=%d text=%r", path, number, line[:80])
    return entries


def stored_rows(
    database_url: str, exclude_kinds: Collection[str] = (STATUS_KIND,)
) -> list[StoredRow]:
    """Central's stored events, ordered by (received_at, event_id); by default without the
    devices' online/offline statuses (the MQTT connection's, never journalled)."""
    engine = make_engine(database_url)
    query = select(Event.device_id, Event.event_id, Event.received_at)
    if exclude_kinds:
        query = query.where(Event.kind.not_in(exclude_kinds))
    try:
        with engine.connect() as connection:
            rows = connection.execute(query.order_by(Event.received_at, Event.event_id)).all()
    finally:
        engine.dispose()
    return [StoredRow(device, str(event_id), received) for device, event_id, received in rows]


@dataclass(frozen=True)
class DeviceTally:
    """One device's counts. ``lost`` and ``duplicated`` must be 0; ``reordered`` (stored after
    an event with a higher seq), ``unjournalled`` and ``redelivered`` are informative."""

    device_id: str
    published: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    unjournalled: int = 0
    redelivered: int = 0


COLUMNS = [f.name for f in fields(DeviceTally)]


@dataclass(frozen=True)
class Verdict:
    """Per-device tallies, their totals, and the ids behind any loss or duplicate."""

    devices: list[DeviceTally]
    totals: DeviceTally
    lost_ids: list[str] = field(default_factory=list)
    duplicated_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No event lost and none stored twice."""
        return self.totals.lost == 0 and self.totals.duplicated == 0

    def format_table(self) -> str:
        """A fixed-width table: one row per device, then the totals and the verdict."""
        rows = [[str(getattr(t, name)) for name in COLUMNS] for t in [*self.devices, self.totals]]
        widths = [max(len(name), *(len(row[i]) for row in rows)) for i, name in enumerate(COLUMNS)]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True))

        rule = "-" * len(line(COLUMNS))
        body = [line(row) for row in rows[:-1]]
        verdict = "OK: 0 lost, 0 duplicated" if self.ok else "FAILED: events lost or duplicated"
        return "\n".join([line(COLUMNS), rule, *body, rule, line(rows[-1]), verdict])


def check(
    journal: Iterable[JournalEntry],
    stored: Sequence[StoredRow],
    deliveries: Mapping[str, int] | None = None,
) -> Verdict:
    """Compare the journal with the stored rows (in stored order); ``deliveries`` counts how
    often each event id reached central (QoS 1 redeliveries are allowed, only reported)."""
    seq_of: dict[str, int] = {}
    published: dict[str, list[str]] = defaultdict(list)
    for entry in journal:
        if entry.event_id not in seq_of:
            seq_of[entry.event_id] = entry.seq
            published[entry.device_id].append(entry.event_id)
    rows_by_device: dict[str, list[StoredRow]] = defaultdict(list)
    for row in stored:
        rows_by_device[row.device_id].append(row)
    tallies: list[DeviceTally] = []
    lost_ids: list[str] = []
    duplicated_ids: list[str] = []
    for device_id in sorted(set(published) | set(rows_by_device)):
        rows = rows_by_device[device_id]
        copies = Counter(row.event_id for row in rows)
        lost = [event_id for event_id in published[device_id] if event_id not in copies]
        twice = sorted(event_id for event_id, n in copies.items() if n > 1)
        lost_ids += lost
        duplicated_ids += twice
        tallies.append(
            DeviceTally(
                device_id=device_id,
                published=len(published[device_id]),
                stored=len(copies),
                lost=len(lost),
                duplicated=len(twice),
                reordered=_reordered([seq_of[r.event_id] for r in rows if r.event_id in seq_of]),
                unjournalled=sum(1 for event_id in copies if event_id not in seq_of),
                redelivered=_redelivered(published[device_id], deliveries),
            )
        )
    return Verdict(tallies, _sum(tallies), lost_ids, duplicated_ids)


def _reordered(seqs: Sequence[int]) -> int:
    """How many events were stored after one with a higher sequence number."""
    count, highest = 0, -1
    for seq in seqs:
        if seq < highest:
            count += 1
        highest = max(highest, seq)
    return count


def _redelivered(event_ids: Sequence[str], deliveries: Mapping[str, int] | None) -> int:
    if deliveries is None:
        return 0
    return sum(1 for event_id in event_ids if deliveries.get(event_id, 0) > 1)


def _sum(tallies: Sequence[DeviceTally]) -> DeviceTally:
    counts = {name: sum(getattr(t, name) for t in tallies) for name in COLUMNS[1:]}
    return DeviceTally(TOTAL, **counts)
