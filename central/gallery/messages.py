"""Gallery messages for gates: entries with sealed templates, snapshots, deltas, signed bytes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel

from central.db.events_models import GalleryVersion
from central.registry.queries import GallerySource
from edge.contract import (
    GalleryDelta,
    GalleryEntry,
    GallerySnapshot,
    RevokedPass,
    seal,
    sign_message,
)


@dataclass(frozen=True)
class TemplateFormat:
    """The model pack and embedder the compound's templates were made with."""

    pack: str
    embedder: str


def gallery_entry(source: GallerySource, gallery_key: bytes) -> GalleryEntry:
    """One person's entry, each template sealed with the gallery key and the person id."""
    associated = source.person_id.encode()
    return GalleryEntry(
        person_id=source.person_id,
        person_kind=source.person_kind,
        valid_from=source.valid_from,
        valid_until=source.valid_until,
        gate_ids=list(source.gate_ids),
        templates=[
            seal(gallery_key, np.asarray(t, dtype="<f4").tobytes(), associated)
            for t in source.templates
        ],
        card_hashes=list(source.card_hashes),
        pin_hashes=list(source.pin_hashes),
    )


def build_snapshot(
    compound_id: str,
    version: int,
    sources: Sequence[GallerySource],
    gallery_key: bytes,
    template_format: TemplateFormat,
    revoked_passes: Sequence[RevokedPass] = (),
) -> GallerySnapshot:
    """The whole gallery at ``version``, with every revoked pass not yet expired."""
    dimension = next((len(t) for s in sources for t in s.templates), 0)
    return GallerySnapshot(
        compound_id=compound_id,
        version=version,
        pack=template_format.pack,
        embedder=template_format.embedder,
        dimension=dimension,
        entries=[gallery_entry(source, gallery_key) for source in sources],
        revoked_passes=list(revoked_passes),
    )


def build_delta(
    row: GalleryVersion,
    sources: Sequence[GallerySource],
    gallery_key: bytes,
    revoked_passes: Sequence[RevokedPass] = (),
) -> GalleryDelta:
    """The change ``row`` records (a changed person no longer in the gallery is deleted), with
    the passes revoked in it."""
    by_id = {source.person_id: source for source in sources}
    gone = [person_id for person_id in row.changed if person_id not in by_id]
    return GalleryDelta(
        compound_id=row.compound_id,
        base_version=row.version - 1,
        version=row.version,
        upserts=[gallery_entry(by_id[p], gallery_key) for p in row.changed if p in by_id],
        deletions=sorted({*row.deleted, *gone}),
        revoked_passes=list(revoked_passes),
    )


def signed_bytes(message: BaseModel, key: Ed25519PrivateKey) -> bytes:
    """``message`` as signed JSON (central's key), as gates verify it."""
    signed = sign_message(message.model_dump(mode="json"), key)
    return json.dumps(signed, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
