"""The gate's gallery: SQLite (WAL), templates AES-GCM encrypted at rest, versioned.

``apply`` takes central's signed snapshot or delta, refuses anything forged, for another
compound, stale or out of sequence, stores it in one transaction, and updates the search
index and the card/PIN table before it returns, so a deletion is in force for the next match.
It also keeps the visitor QR passes central revoked, until each would have expired.
Each person's templates are sealed with the node's own at-rest key (the compound and person id
as associated data); the file never holds a template in clear. On start the index is rebuilt
from the file.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edge.contract import GalleryDelta, GallerySnapshot, SealError, credential_hash, seal, unseal
from edge.gallery.messages import (
    GalleryError,
    GalleryPerson,
    OpenedEntry,
    open_entry,
    read_message,
    templates_from_bytes,
)
from edge.recognize.search import TemplateIndex

__all__ = ["GalleryError", "GalleryPerson", "GalleryStore"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS persons (
    person_id TEXT PRIMARY KEY,
    person_kind TEXT NOT NULL,
    valid_from TEXT,
    valid_until TEXT,
    gate_ids TEXT NOT NULL,
    templates TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS credentials (
    method TEXT NOT NULL,
    hash TEXT NOT NULL,
    person_id TEXT NOT NULL,
    PRIMARY KEY (method, hash)
);
CREATE TABLE IF NOT EXISTS revoked_passes (pass_id TEXT PRIMARY KEY, valid_until TEXT NOT NULL);
"""


class GalleryStore:
    """Local SQLite gallery (WAL), templates AES-GCM encrypted at rest, versioned."""

    def __init__(
        self,
        path: Path,
        at_rest_key: bytes,
        gallery_key: bytes,
        central_key: Ed25519PublicKey,
        compound_id: str,
        index: TemplateIndex,
    ) -> None:
        self.index = index
        self._at_rest_key = at_rest_key
        self._gallery_key = gallery_key
        self._central_key = central_key
        self._compound_id = compound_id
        self._lock = threading.Lock()
        self._persons: dict[str, GalleryPerson] = {}
        self._credentials: dict[tuple[str, str], str] = {}
        self._revoked: dict[str, datetime] = {}  # pass id -> the end of its own validity
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._version = self._load()
        except sqlite3.Error as exc:
            raise GalleryError("storage", f"cannot open gallery {path}: {exc}") from exc

    @property
    def version(self) -> int:
        """The version last applied (0: nothing yet)."""
        return self._version

    def person(self, person_id: str) -> GalleryPerson | None:
        """The enrolled person with this id, if any."""
        with self._lock:
            return self._persons.get(person_id)

    def person_by_credential(
        self, method: Literal["card", "pin"], value: str
    ) -> GalleryPerson | None:
        """The person holding this card number or PIN, if any."""
        key = (method, credential_hash(self._gallery_key, method, value))
        with self._lock:
            person_id = self._credentials.get(key)
            return None if person_id is None else self._persons.get(person_id)

    def pass_revoked(self, pass_id: str) -> bool:
        """Whether central revoked the visitor QR pass ``pass_id``."""
        with self._lock:
            return pass_id in self._revoked

    def apply(self, message: bytes) -> int:
        """Apply central's signed snapshot or delta; returns the new version, else
        ``GalleryError`` (then nothing changed, except that deletions always take effect)."""
        parsed = read_message(message, self._central_key, self._compound_id)
        with self._lock:
            if isinstance(parsed, GallerySnapshot):
                opened = self._check_snapshot(parsed)
                removed = set(self._persons) - {e.person.person_id for e in opened}
            else:
                opened = self._check_delta(parsed)
                removed = set(parsed.deletions)
            try:
                self._persist(parsed, opened, removed)
            except sqlite3.Error as exc:
                self._forget(removed)
                raise GalleryError("storage", f"cannot store {parsed.version}: {exc}") from exc
            if isinstance(parsed, GallerySnapshot):
                self._install_all(opened)
                self._revoked = {}
            else:
                self._forget(removed | {e.person.person_id for e in opened})
                self._install(opened)
            self._revoked.update({r.pass_id: _utc(r.valid_until) for r in parsed.revoked_passes})
            now = datetime.now(UTC)
            self._revoked = {p: until for p, until in self._revoked.items() if until > now}
            self._version = parsed.version
        log.info(
            "gallery applied kind=%s version=%d upserts=%d removals=%d",
            parsed.kind,
            parsed.version,
            len(opened),
            len(removed),
        )
        return parsed.version

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _check_snapshot(self, snapshot: GallerySnapshot) -> list[OpenedEntry]:
        if snapshot.version < self._version:
            raise GalleryError("stale", f"snapshot {snapshot.version} < applied {self._version}")
        if snapshot.dimension != self.index.dimension:
            raise GalleryError(
                "incompatible",
                f"templates are {snapshot.dimension}-d ({snapshot.pack}/{snapshot.embedder}),"
                f" this node's pack makes {self.index.dimension}-d",
            )
        return [open_entry(e, self._gallery_key, self.index.dimension) for e in snapshot.entries]

    def _check_delta(self, delta: GalleryDelta) -> list[OpenedEntry]:
        if delta.version <= self._version:
            raise GalleryError("stale", f"delta to {delta.version} <= applied {self._version}")
        if delta.base_version != self._version:
            raise GalleryError("gap", f"delta from {delta.base_version}, applied {self._version}")
        return [open_entry(e, self._gallery_key, self.index.dimension) for e in delta.upserts]

    def _persist(
        self, parsed: GallerySnapshot | GalleryDelta, opened: list[OpenedEntry], removed: set[str]
    ) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            gone = removed | {e.person.person_id for e in opened}
            db.executemany("DELETE FROM persons WHERE person_id = ?", [(p,) for p in gone])
            db.executemany("DELETE FROM credentials WHERE person_id = ?", [(p,) for p in gone])
            for entry in opened:
                self._insert(entry)
            self._persist_revocations(parsed)
            db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [("compound_id", self._compound_id), ("version", str(parsed.version))],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _persist_revocations(self, parsed: GallerySnapshot | GalleryDelta) -> None:
        db = self._db
        if isinstance(parsed, GallerySnapshot):
            db.execute("DELETE FROM revoked_passes")
        db.executemany(
            "INSERT OR REPLACE INTO revoked_passes VALUES (?, ?)",
            [(r.pass_id, _utc(r.valid_until).isoformat()) for r in parsed.revoked_passes],
        )
        now = datetime.now(UTC).isoformat()  # one offset (UTC): the text orders as the times do
        db.execute("DELETE FROM revoked_passes WHERE valid_until <= ?", (now,))

    def _insert(self, entry: OpenedEntry) -> None:
        person = entry.person
        sealed = seal(self._at_rest_key, entry.templates.astype("<f4").tobytes(), self._ad(person))
        self._db.execute(
            "INSERT INTO persons VALUES (?, ?, ?, ?, ?, ?)",
            (
                person.person_id,
                person.person_kind,
                _iso(person.valid_from),
                _iso(person.valid_until),
                json.dumps(list(person.gate_ids)),
                sealed,
            ),
        )
        self._db.executemany(
            "INSERT OR REPLACE INTO credentials VALUES (?, ?, ?)",
            [("card", h, person.person_id) for h in entry.card_hashes]
            + [("pin", h, person.person_id) for h in entry.pin_hashes],
        )

    def _forget(self, person_ids: set[str]) -> None:
        for person_id in person_ids:
            self.index.remove(person_id)
            self._persons.pop(person_id, None)
        self._credentials = {k: p for k, p in self._credentials.items() if p not in person_ids}

    def _install_all(self, opened: list[OpenedEntry]) -> None:
        self.index.replace_all({e.person.person_id: e.templates for e in opened})
        self._persons = {}
        self._credentials = {}
        self._install(opened, index=False)

    def _install(self, opened: list[OpenedEntry], index: bool = True) -> None:
        for entry in opened:
            person_id = entry.person.person_id
            self._persons[person_id] = entry.person
            if index:
                self.index.upsert(person_id, entry.templates)
            self._credentials.update({("card", h): person_id for h in entry.card_hashes})
            self._credentials.update({("pin", h): person_id for h in entry.pin_hashes})

    def _load(self) -> int:
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        stored = meta.get("compound_id")
        if stored is not None and stored != self._compound_id:
            raise GalleryError("wrong_compound", f"gallery file is for {stored!r}")
        hashes: dict[tuple[str, str], list[str]] = {}
        for method, digest, person_id in self._db.execute("SELECT * FROM credentials"):
            hashes.setdefault((person_id, method), []).append(digest)
        entries = []
        for row in self._db.execute("SELECT * FROM persons").fetchall():
            person = GalleryPerson(
                row[0], row[1], _parse(row[2]), _parse(row[3]), tuple(json.loads(row[4]))
            )
            try:
                data = unseal(self._at_rest_key, row[5], self._ad(person))
                templates = templates_from_bytes(data, self.index.dimension)
            except (SealError, ValueError) as exc:
                raise GalleryError("incompatible", f"stored {person.person_id!r}: {exc}") from exc
            cards = tuple(hashes.get((person.person_id, "card"), ()))
            pins = tuple(hashes.get((person.person_id, "pin"), ()))
            entries.append(OpenedEntry(person, templates, cards, pins))
        self._install_all(entries)
        revoked = self._db.execute("SELECT pass_id, valid_until FROM revoked_passes").fetchall()
        self._revoked = {pass_id: datetime.fromisoformat(until) for pass_id, until in revoked}
        log.info(
            "gallery loaded version=%s persons=%d revoked_passes=%d",
            meta.get("version", "0"),
            len(entries),
            len(revoked),
        )
        return int(meta.get("version", "0"))

    def _ad(self, person: GalleryPerson) -> bytes:
        return f"{self._compound_id}\x00{person.person_id}".encode()


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
