"""Central's gallery messages as the gate reads them: signature, compound, sealed templates.

Everything is checked and decoded here, before the store touches its database or the index,
so a message that fails any check changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import TypeAdapter, ValidationError

from edge.contract import (
    GalleryDelta,
    GalleryEntry,
    GallerySnapshot,
    SealError,
    SignatureError,
    unseal,
    verify_message,
)

GalleryReason = Literal[
    "forged", "wrong_compound", "stale", "gap", "incompatible", "malformed", "storage"
]
GalleryMessage = GallerySnapshot | GalleryDelta
_MESSAGE = TypeAdapter[GalleryMessage](GalleryMessage)
Templates = npt.NDArray[np.float32]


class GalleryError(Exception):
    """A gallery message or file the gate refuses; ``reason`` is one of ``GalleryReason``
    (``gap`` means the node must ask central for a resync)."""

    def __init__(self, reason: GalleryReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: GalleryReason = reason


@dataclass(frozen=True)
class GalleryPerson:
    """Someone the gate may recognise, and where and when."""

    person_id: str
    person_kind: Literal["resident", "visitor"]
    valid_from: datetime | None
    valid_until: datetime | None
    gate_ids: tuple[str, ...]  # empty: every gate


class Admission(Protocol):
    """Where and when someone may pass (``GalleryPerson`` and the policy's records)."""

    @property
    def valid_from(self) -> datetime | None: ...
    @property
    def valid_until(self) -> datetime | None: ...
    @property
    def gate_ids(self) -> tuple[str, ...]: ...


def admission_refusal(person: Admission, gate_id: str, at: datetime) -> str | None:
    """Why ``person`` may not pass ``gate_id`` at ``at`` (wrong gate, not yet or no longer
    valid), or None when they may."""
    if person.gate_ids and gate_id not in person.gate_ids:
        return "wrong_gate"
    if person.valid_from is not None and at < person.valid_from:
        return "not_yet_valid"
    if person.valid_until is not None and at > person.valid_until:
        return "expired"
    return None


@dataclass(frozen=True)
class OpenedEntry:
    """A gallery entry with its templates unsealed."""

    person: GalleryPerson
    templates: Templates  # (n, dimension) float32
    card_hashes: tuple[str, ...]
    pin_hashes: tuple[str, ...]


def read_message(message: bytes, central_key: Ed25519PublicKey, compound_id: str) -> GalleryMessage:
    """The snapshot or delta in ``message`` if central signed it for ``compound_id``."""
    try:
        raw = json.loads(message)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GalleryError("malformed", f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise GalleryError("malformed", "top level is not an object")
    try:
        verify_message(raw, central_key)
    except SignatureError as exc:
        raise GalleryError("forged", str(exc)) from exc
    body = {k: v for k, v in raw.items() if k != "signature"}
    try:
        parsed = _MESSAGE.validate_python(body)
    except ValidationError as exc:
        raise GalleryError("malformed", str(exc.errors()[0]["msg"])) from exc
    if parsed.compound_id != compound_id:
        raise GalleryError("wrong_compound", f"for {parsed.compound_id!r}, not {compound_id!r}")
    return parsed


def open_entry(entry: GalleryEntry, gallery_key: bytes, dimension: int) -> OpenedEntry:
    """``entry`` with its templates unsealed with the compound's gallery key and checked."""
    blocks = [_open_template(entry.person_id, t, gallery_key, dimension) for t in entry.templates]
    templates = np.stack(blocks) if blocks else np.zeros((0, dimension), np.float32)
    person = GalleryPerson(
        person_id=entry.person_id,
        person_kind=entry.person_kind,
        valid_from=entry.valid_from,
        valid_until=entry.valid_until,
        gate_ids=tuple(entry.gate_ids),
    )
    return OpenedEntry(person, templates, tuple(entry.card_hashes), tuple(entry.pin_hashes))


def templates_from_bytes(data: bytes, dimension: int) -> Templates:
    """``(n, dimension)`` float32 templates from their little-endian bytes; ValueError if bad."""
    if dimension <= 0 or len(data) % (4 * dimension):
        raise ValueError(f"{len(data)} bytes is not a whole number of {dimension}-d templates")
    block = np.frombuffer(data, "<f4").astype(np.float32).reshape(-1, dimension)
    if not np.isfinite(block).all():
        raise ValueError("template holds NaN or infinity")
    return block


def _open_template(person_id: str, sealed: str, key: bytes, dimension: int) -> Templates:
    try:
        data = unseal(key, sealed, person_id.encode("utf-8"))
        block = templates_from_bytes(data, dimension)
    except (SealError, ValueError) as exc:
        raise GalleryError("malformed", f"template of {person_id!r}: {exc}") from exc
    if len(block) != 1:
        raise GalleryError(
            "malformed", f"template of {person_id!r} is not one {dimension}-d vector"
        )
    return block.reshape(dimension)
