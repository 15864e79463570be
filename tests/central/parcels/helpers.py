"""Test helpers: inspection payloads, outlet devices, a pipeline with the parcel hooks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.db.events_models import Alarm
from central.db.registry_models import Device
from central.devices.mosquitto_auth import mosquitto_password_hash
from central.ingest.pipeline import IngestPipeline
from central.parcels.config import ParcelRulesConfig
from central.parcels.ingest import ParcelIngest
from central.registry.queries import device_info
from edge.contract import ParcelInspection, public_key_text
from tests.central.ingest.helpers import NOW, World

SENDER_HASH = "ab" * 32
SHANGHAI = ZoneInfo("Asia/Shanghai")
SENDER_MASKED = "3101**********1238"


def inspection(
    waybill: str | None = "SF1234567890",
    flags: tuple[str, ...] = (),
    started_at: datetime = NOW - timedelta(minutes=2),
    **changes: Any,
) -> ParcelInspection:
    """A compliant inspection (verified sender, opened, 15 s, X-ray), or as ``changes`` say."""
    fields: dict[str, Any] = {
        "outlet_id": "outlet-1",
        "desk_id": "desk-1",
        "parcel_session_id": f"s-{waybill}-{started_at.timestamp():.0f}",
        "waybill_number": waybill,
        "waybill_method": "barcode" if waybill else None,
        "sender_status": "verified",
        "sender_id_hash": SENDER_HASH,
        "sender_id_masked": SENDER_MASKED,
        "opened": True,
        "inspection_s": 15.0,
        "xray_passed": True,
        "flags": list(flags),
        "started_at": started_at,
        "ended_at": started_at + timedelta(seconds=40),
    }
    fields.update(changes)
    return ParcelInspection.model_validate(fields)


def add_outlet_device(
    sessions: sessionmaker[Session], world: World, device_id: str, outlet_id: str
) -> None:
    """Register an outlet device at ``outlet_id`` whose key ``world`` signs with."""
    key = Ed25519PrivateKey.generate()
    world.keys[device_id] = key
    world.sites[device_id] = outlet_id
    with sessions() as session, session.begin():
        session.add(
            Device(
                id=device_id,
                kind="outlet",
                site_id=outlet_id,
                public_key=public_key_text(key.public_key()),
                mqtt_username=device_id,
                mqtt_password_hash=mosquitto_password_hash(f"{device_id}-secret"),
            )
        )


def parcel_pipeline(
    sessions: sessionmaker[Session], config: ParcelRulesConfig | None = None
) -> IngestPipeline:
    """The ingest pipeline with the parcel hooks, as ``build_ingest`` composes it."""
    parcels = ParcelIngest(sessions, config or ParcelRulesConfig())
    return IngestPipeline(sessions, device_info, [parcels.on_events], [parcels.on_rejected])


def alarms(sessions: sessionmaker[Session], alarm_type: str) -> list[Alarm]:
    """Every alarm of ``alarm_type``, oldest first."""
    with sessions() as session:
        query = select(Alarm).where(Alarm.type == alarm_type).order_by(Alarm.id)
        return list(session.scalars(query))
