"""Device provisioning: keys and MQTT credentials returned once; broker files rewritten."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from central.api.context import CentralContext
from central.api.deps import Admin, ContextDep, DeviceDep, SessionDep, load_scoped
from central.audit.log import record
from central.core.schemas import RequestModel
from central.db.registry_models import Compound, Gate, Outlet, new_id
from central.devices.mosquitto_auth import (
    MqttAccount,
    mosquitto_password_hash,
    write_mosquitto_auth,
)
from central.devices.provision import ProvisioningError, provision_device
from central.security.scopes import Principal
from edge.contract import public_key_text

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/devices", tags=["devices"])


class DeviceCreate(RequestModel):
    """A gate device (give ``gate_id``) or an outlet device (give ``outlet_id``)."""

    kind: Literal["gate", "outlet"]
    device_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    gate_id: str | None = Field(default=None, max_length=64)
    outlet_id: str | None = Field(default=None, max_length=64)


class DevicePublic(BaseModel):
    """A device as stored (public key only)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    site_id: str
    gate_id: str | None
    public_key: str
    mqtt_username: str
    active: bool
    created_at: datetime


class DeviceSecrets(BaseModel):
    """Returned once at provisioning: store on the device, they are not kept here."""

    device: DevicePublic
    private_key: str
    mqtt_password: str
    gallery_key: str | None = Field(description="The compound's gallery key (gates only).")
    central_public_key: str


def _site(session: Session, user: Principal, body: DeviceCreate) -> tuple[str, str | None]:
    if body.kind == "gate" and body.gate_id and not body.outlet_id:
        gate = load_scoped(session, user, Gate, body.gate_id)
        return load_scoped(session, user, Compound, gate.compound_id).id, gate.id
    if body.kind == "outlet" and body.outlet_id and not body.gate_id:
        return load_scoped(session, user, Outlet, body.outlet_id).id, None
    raise HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT, "a gate device needs gate_id, an outlet outlet_id"
    )


def sync_broker_files(context: CentralContext, session: Session) -> None:
    """Rewrite Mosquitto's password and ACL files when they are configured."""
    mqtt = context.settings.mqtt
    if mqtt.passwd_path is None or mqtt.acl_path is None:
        return
    central = None
    if mqtt.username and mqtt.password_file:
        password = mqtt.password_file.read_text(encoding="utf-8").strip()
        central = MqttAccount(mqtt.username, mosquitto_password_hash(password))
    write_mosquitto_auth(session, mqtt.passwd_path, mqtt.acl_path, central)
    log.info("broker_auth_written passwd=%s acl=%s", mqtt.passwd_path, mqtt.acl_path)


@router.post("", status_code=status.HTTP_201_CREATED)
def provision(
    body: DeviceCreate, user: Admin, session: SessionDep, context: ContextDep
) -> DeviceSecrets:
    """Provision a device; its private key and MQTT password appear only in this response."""
    site_id, gate_id = _site(session, user, body)
    device_id = body.device_id or f"{body.kind}-{new_id()[:12]}"
    try:
        made = provision_device(session, device_id, body.kind, site_id, gate_id, user.username)
    except ProvisioningError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    session.commit()
    sync_broker_files(context, session)
    return DeviceSecrets(
        device=DevicePublic.model_validate(made.device),
        private_key=made.private_key,
        mqtt_password=made.mqtt_password,
        gallery_key=made.gallery_key,
        central_public_key=public_key_text(context.secrets.signing_key.public_key()),
    )


@router.get("/{device_id}")
def get_device(device: DeviceDep) -> DevicePublic:
    """One device (no secrets)."""
    return DevicePublic.model_validate(device)


@router.post("/{device_id}/deactivate")
def deactivate(
    device: DeviceDep, user: Admin, session: SessionDep, context: ContextDep
) -> DevicePublic:
    """Revoke a device: it loses its broker account and its events are refused."""
    device.active = False
    record(session, user.username, "device.deactivate", device.id, device.site_id)
    session.commit()
    sync_broker_files(context, session)
    return DevicePublic.model_validate(device)
