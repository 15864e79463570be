"""Through a real Mosquitto: ingest as ``build_ingest`` composes it turns an outlet's signed
inspection into a parcel, and an unregistered device's message into its alarm."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from central.core.secrets import load_secrets
from central.core.settings import CentralMqttConfig
from central.db.parcel_models import Parcel
from central.ingest.runtime import build_ingest
from tests.central.api.conftest import make_settings
from tests.central.ingest.helpers import World, count_rows
from tests.central.ingest.mqtt_helpers import open_broker, publish_all, wait_until
from tests.central.parcels.helpers import alarms, inspection


def test_inspection_and_rogue_device_over_mqtt(
    sessions: sessionmaker[Session], world: World, tmp_path: Path, model_dir: Path
) -> None:
    with open_broker(tmp_path / "broker") as broker:
        settings = make_settings(tmp_path, "sqlite://", model_dir).model_copy(
            update={
                "mqtt": CentralMqttConfig(
                    port=broker.port, client_id=f"parcels-{uuid.uuid4().hex[:8]}"
                )
            }
        )
        runtime = build_ingest(settings, load_secrets(settings), sessions)
        runtime.start()
        try:
            wait_until(runtime.worker.subscribed.is_set, 30, "ingest subscription")
            flagged = inspection("SF5555555555", ("NO_XRAY",), xray_passed=False)
            messages = [
                world.message("outlet-d", flagged),
                world.message("rogue-outlet", inspection(), site_id="outlet-1"),
            ]
            publish_all(broker.port, None, "outlet-d", messages)
            wait_until(lambda: count_rows(sessions, Parcel) == 1, 30, "the parcel")
            wait_until(lambda: len(alarms(sessions, "unknown_device")) == 1, 30, "rogue alarm")
        finally:
            runtime.stop()
    [noncompliant] = alarms(sessions, "parcel_noncompliant")
    assert "NO_XRAY" in noncompliant.detail
    assert alarms(sessions, "unknown_device")[0].subject == "device/rogue-outlet"
