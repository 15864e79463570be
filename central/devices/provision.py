"""Provision a gate or outlet device: signing key pair and MQTT password, shown once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from central.audit.log import record
from central.db.registry_models import Device
from central.devices.mosquitto_auth import mosquitto_password_hash
from central.registry.queries import gallery_key
from edge.contract import private_key_text, public_key_text
from edge.contract.signing import b64url
from edge.contract.topics import check_id


class ProvisioningError(ValueError):
    """A device that cannot be provisioned as asked (id taken, bad id)."""


@dataclass(frozen=True)
class Provisioned:
    """A new device with the secrets that are returned once and never stored."""

    device: Device
    private_key: str
    mqtt_password: str
    gallery_key: str | None


def provision_device(
    session: Session,
    device_id: str,
    kind: Literal["gate", "outlet"],
    site_id: str,
    gate_id: str | None,
    actor: str,
) -> Provisioned:
    """Create the device row (public key, password hash) and return its secrets once."""
    try:
        check_id(device_id)
    except ValueError as exc:
        raise ProvisioningError(str(exc)) from exc
    if session.get(Device, device_id) is not None:
        raise ProvisioningError(f"device {device_id!r} exists already")
    key = Ed25519PrivateKey.generate()
    password = secrets.token_urlsafe(24)
    device = Device(
        id=device_id,
        kind=kind,
        site_id=site_id,
        gate_id=gate_id,
        public_key=public_key_text(key.public_key()),
        mqtt_username=device_id,
        mqtt_password_hash=mosquitto_password_hash(password),
    )
    session.add(device)
    session.flush()
    shared = b64url(gallery_key(session, site_id)) if kind == "gate" else None
    record(session, actor, "device.provision", device_id, site_id, {"kind": kind})
    return Provisioned(device, private_key_text(key), password, shared)
