"""Read API over the registries for ingest, rules and gallery distribution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db.privacy_models import ConsentRecord, FaceTemplate, GalleryKey
from central.db.registry_models import Credential, Device, Resident, Visitor
from central.registry.sealed import new_gallery_key, open_gallery_key, open_template

PersonKind = Literal["resident", "visitor"]


@dataclass(frozen=True)
class DeviceInfo:
    """A provisioned device as ingest needs it."""

    device_id: str
    site_id: str
    kind: Literal["gate", "outlet"]
    public_key: str
    active: bool


@dataclass(frozen=True)
class PersonWindow:
    """When a person may enter: residents until move-out, visitors within their window."""

    person_id: str
    person_kind: PersonKind
    compound_id: str
    valid_from: datetime | None
    valid_until: datetime | None
    active: bool


@dataclass(frozen=True)
class GallerySource:
    """One person of a compound's gallery, templates opened."""

    person_id: str
    person_kind: PersonKind
    valid_from: datetime | None
    valid_until: datetime | None
    gate_ids: tuple[str, ...]
    templates: list[npt.NDArray[np.float32]]
    card_hashes: list[str]
    pin_hashes: list[str]


def _device_info(device: Device) -> DeviceInfo:
    kind = cast(Literal["gate", "outlet"], device.kind)
    return DeviceInfo(device.id, device.site_id, kind, device.public_key, device.active)


def device_info(session: Session, device_id: str) -> DeviceInfo | None:
    """The device ``device_id``, or None if it was never provisioned."""
    device = session.get(Device, device_id)
    return _device_info(device) if device is not None else None


def person_window(session: Session, person_id: str) -> PersonWindow | None:
    """The resident's or visitor's admission window, or None if unknown."""
    resident = session.get(Resident, person_id)
    if resident is not None:
        active = resident.moved_out_at is None
        return PersonWindow(
            person_id, "resident", resident.compound_id, None, resident.moved_out_at, active
        )
    visitor = session.get(Visitor, person_id)
    if visitor is None:
        return None
    return PersonWindow(
        person_id,
        "visitor",
        visitor.compound_id,
        visitor.valid_from,
        visitor.valid_until,
        visitor.revoked_at is None,
    )


def _consenting(session: Session, compound_id: str) -> set[str]:
    query = select(ConsentRecord.person_id).where(
        ConsentRecord.compound_id == compound_id, ConsentRecord.withdrawn_at.is_(None)
    )
    return set(session.scalars(query))


def _holding_credentials(session: Session, compound_id: str) -> set[str]:
    query = select(Credential.person_id).where(Credential.compound_id == compound_id)
    return set(session.scalars(query))


def _source(session: Session, window: PersonWindow, gate_ids: tuple[str, ...]) -> GallerySource:
    templates = session.scalars(
        select(FaceTemplate).where(FaceTemplate.person_id == window.person_id)
    )
    credentials = list(
        session.scalars(select(Credential).where(Credential.person_id == window.person_id))
    )
    return GallerySource(
        person_id=window.person_id,
        person_kind=window.person_kind,
        valid_from=window.valid_from,
        valid_until=window.valid_until,
        gate_ids=gate_ids,
        templates=[open_template(session, t) for t in templates],
        card_hashes=[c.value_hash for c in credentials if c.method == "card"],
        pin_hashes=[c.value_hash for c in credentials if c.method == "pin"],
    )


def compound_gallery(session: Session, compound_id: str) -> list[GallerySource]:
    """Every active person of the compound with face consent on record or a card/PIN.

    Templates come only with consent that has not been withdrawn (enrolment requires it and
    withdrawal deletes them); people with a card or PIN but no face consent appear with no
    templates.
    """
    eligible = _consenting(session, compound_id) | _holding_credentials(session, compound_id)
    residents = session.scalars(
        select(Resident).where(Resident.compound_id == compound_id, Resident.moved_out_at.is_(None))
    )
    visitors = session.scalars(
        select(Visitor).where(Visitor.compound_id == compound_id, Visitor.revoked_at.is_(None))
    )
    sources = []
    for person in [*residents, *visitors]:
        window = person_window(session, person.id)
        if window is not None and person.id in eligible:
            gates = tuple(person.gate_ids) if isinstance(person, Visitor) else ()
            sources.append(_source(session, window, gates))
    return sources


def gallery_key(session: Session, compound_id: str) -> bytes:
    """The compound's 32-byte gallery key (created on first use)."""
    row = session.get(GalleryKey, compound_id) or new_gallery_key(session, compound_id)
    return open_gallery_key(session, row)


def compound_gates(session: Session, compound_id: str) -> list[DeviceInfo]:
    """The gate devices provisioned for the compound (active or not)."""
    devices = session.scalars(
        select(Device)
        .where(Device.site_id == compound_id, Device.kind == "gate")
        .order_by(Device.id)
    )
    return [_device_info(device) for device in devices]
