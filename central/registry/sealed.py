"""Secrets at rest: face templates and gallery keys sealed with central's at-rest key."""

from __future__ import annotations

import secrets

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from central.db.privacy_models import FaceTemplate, GalleryKey
from central.db.session import at_rest_key
from edge.contract import KEY_BYTES, seal, unseal


def _template_aad(template: FaceTemplate) -> bytes:
    return f"template:{template.person_id}:{template.dimension}".encode()


def seal_template(
    session: Session, template: FaceTemplate, vector: npt.NDArray[np.float32]
) -> None:
    """Store ``vector`` in ``template`` sealed (its person id and dimension authenticated)."""
    template.dimension = int(vector.shape[0])
    data = np.ascontiguousarray(vector, dtype="<f4").tobytes()
    template.sealed = seal(at_rest_key(session), data, _template_aad(template))


def open_template(session: Session, template: FaceTemplate) -> npt.NDArray[np.float32]:
    """The template's unit vector (float32); ``SealError`` if the row was tampered with."""
    data = unseal(at_rest_key(session), template.sealed, _template_aad(template))
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def _key_aad(compound_id: str) -> bytes:
    return f"gallery-key:{compound_id}".encode()


def new_gallery_key(session: Session, compound_id: str) -> GalleryKey:
    """A fresh random gallery key for ``compound_id``, sealed, added to the session."""
    row = GalleryKey(
        compound_id=compound_id,
        sealed=seal(at_rest_key(session), secrets.token_bytes(KEY_BYTES), _key_aad(compound_id)),
    )
    session.add(row)
    return row


def open_gallery_key(session: Session, row: GalleryKey) -> bytes:
    """The 32 bytes of a stored gallery key."""
    return unseal(at_rest_key(session), row.sealed, _key_aad(row.compound_id))
