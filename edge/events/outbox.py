"""The SQLite outbox: every event is stored before ``publish`` returns and removed on PUBACK.

WAL mode with ``synchronous=FULL``: each commit is fsynced before it returns, so an event the
node has reported as published survives a power cut, not just a crash of the process (NORMAL
could lose the last commits on power loss). Gate event rates are a few per second, far below
the cost of one fsync per event. Events leave in insertion order. When the quota is reached
the configured policy drops the oldest event or refuses the new one; every drop is tallied in
the same transaction, and the publisher turns the tally into an ``outbox.dropped`` audit
event, which is itself never dropped.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from edge.comms.config import OutboxConfig

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    data BLOB NOT NULL,
    audit INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS drops (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pending INTEGER NOT NULL,
    first_event_id TEXT,
    last_event_id TEXT,
    total INTEGER NOT NULL
);
INSERT OR IGNORE INTO drops VALUES (1, 0, NULL, NULL, 0);
"""


class OutboxError(Exception):
    """The outbox could not store or read events (full disk, I/O error, corrupt file)."""


class OutboxFull(OutboxError):
    """The quota is reached and the policy is ``refuse_new``; the event was not stored."""


@dataclass(frozen=True)
class OutboxRow:
    """One stored event in wire form."""

    seq: int
    event_id: str
    topic: str
    data: bytes


@dataclass(frozen=True)
class DropTally:
    """Events dropped since the last audit event."""

    dropped: int
    first_event_id: str | None
    last_event_id: str | None


class Outbox:
    """A durable FIFO of signed events with a quota; safe to share between threads."""

    def __init__(self, config: OutboxConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self.write_errors = 0
        try:
            config.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(config.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._count = int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        except (OSError, sqlite3.Error) as exc:
            raise OutboxError(f"cannot open outbox {config.path}: {exc}") from exc

    def add(self, event_id: str, topic: str, data: bytes) -> None:
        """Store one event durably, applying the quota policy first."""
        refused = dropped = False
        with self._lock:
            with self._write("add"):
                if self._count >= self._config.max_events:
                    if self._config.policy == "refuse_new":
                        refused = True
                        self._tally(event_id, "refused")
                    else:
                        dropped = self._drop_oldest()
                if not refused:
                    self._db.execute(
                        "INSERT INTO outbox (event_id, topic, data) VALUES (?, ?, ?)",
                        (event_id, topic, data),
                    )
            self._count += int(not refused) - int(dropped)
        if refused:
            raise OutboxFull(f"outbox full ({self._config.max_events} events), event refused")

    def add_audit(self, event_id: str, topic: str, data: bytes, dropped: int) -> None:
        """Store the audit event reporting ``dropped`` drops and take them off the tally; audit
        events are exempt from the quota and never dropped."""
        with self._lock:
            with self._write("add_audit"):
                self._db.execute(
                    "INSERT INTO outbox (event_id, topic, data, audit) VALUES (?, ?, ?, 1)",
                    (event_id, topic, data),
                )
                self._db.execute(
                    "UPDATE drops SET pending = pending - ?,"
                    " first_event_id = CASE WHEN pending - ? > 0 THEN first_event_id END,"
                    " last_event_id = CASE WHEN pending - ? > 0 THEN last_event_id END",
                    (dropped, dropped, dropped),
                )
            self._count += 1

    def pending(self, limit: int) -> list[OutboxRow]:
        """The oldest ``limit`` stored events, in order."""
        with self._lock:
            rows = self._read(
                "SELECT seq, event_id, topic, data FROM outbox ORDER BY seq LIMIT ?", (limit,)
            )
        return [OutboxRow(int(r[0]), str(r[1]), str(r[2]), bytes(r[3])) for r in rows]

    def delete(self, seqs: list[int]) -> None:
        """Forget events the broker acknowledged."""
        if not seqs:
            return
        with self._lock:
            with self._write("delete"):
                done = self._db.executemany(
                    "DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs]
                )
            self._count -= done.rowcount

    def drop_tally(self) -> DropTally:
        """Drops not yet reported by an audit event."""
        with self._lock:
            row = self._read("SELECT pending, first_event_id, last_event_id FROM drops", ())[0]
        return DropTally(int(row[0]), row[1], row[2])

    @property
    def dropped_total(self) -> int:
        """Events dropped or refused since the outbox was created."""
        with self._lock:
            return int(self._read("SELECT total FROM drops", ())[0][0])

    def __len__(self) -> int:
        with self._lock:
            return self._count

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _drop_oldest(self) -> bool:
        row = self._db.execute(
            "SELECT seq, event_id FROM outbox WHERE audit = 0 ORDER BY seq LIMIT 1"
        ).fetchone()
        if row is None:
            return False
        self._db.execute("DELETE FROM outbox WHERE seq = ?", (row[0],))
        self._tally(row[1], "dropped_oldest")
        return True

    def _tally(self, event_id: str, action: str) -> None:
        pending = self._db.execute(
            "UPDATE drops SET pending = pending + 1, total = total + 1,"
            " first_event_id = COALESCE(first_event_id, ?), last_event_id = ? RETURNING pending",
            (event_id, event_id),
        ).fetchone()[0]
        # One warning per run of drops; the audit event carries the count.
        level = logging.WARNING if pending == 1 else logging.DEBUG
        log.log(
            level, "outbox full action=%s event_id=%s pending_drops=%d", action, event_id, pending
        )

    def _read(self, sql: str, params: tuple[object, ...]) -> list[Any]:
        try:
            return list(self._db.execute(sql, params).fetchall())
        except sqlite3.Error as exc:
            raise OutboxError(f"outbox read failed: {exc}") from exc

    @contextmanager
    def _write(self, operation: str) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT; a SQLite error rolls back and becomes an ``OutboxError``."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            with suppress(sqlite3.Error):  # also when the connection itself is unusable
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            self.write_errors += 1
            log.error("outbox write failed operation=%s error=%s", operation, exc)
            raise OutboxError(f"outbox {operation} failed: {exc}") from exc
