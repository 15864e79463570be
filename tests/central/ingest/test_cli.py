"""``broker-config`` writes the generated mosquitto.conf and names bad keys; the live feed gets
each new event once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from central.ingest.cli import main
from central.ingest.pipeline import IngestPipeline
from central.ingest.runtime import feed_events
from central.registry.queries import device_info
from edge.contract import AccessDecision
from tests.central.ingest.helpers import Sink, World


def _write(tmp_path: Path, broker: dict[str, Any]) -> Path:
    path = tmp_path / "anju.yaml"
    path.write_text(yaml.safe_dump({"broker": broker}))
    return path


def test_broker_config_written(tmp_path: Path) -> None:
    config = _write(
        tmp_path,
        {
            "password_file": "/etc/mosquitto/anju.passwd",
            "acl_file": "/etc/mosquitto/anju.acl",
            "tls": {"ca_file": "/tls/ca.pem", "cert_file": "/tls/b.pem", "key_file": "/tls/b.key"},
        },
    )
    output = tmp_path / "mosquitto.conf"
    assert main(["broker-config", "--config", str(config), "--output", str(output)]) == 0
    lines = output.read_text().splitlines()
    for expected in (
        "listener 8883 0.0.0.0",
        "certfile /tls/b.pem",
        "allow_anonymous false",
        "password_file /etc/mosquitto/anju.passwd",
        "acl_file /etc/mosquitto/anju.acl",
        "persistence true",
        "max_queued_messages 1000000",
        "persistent_client_expiration 14d",
    ):
        assert expected in lines


@pytest.mark.parametrize(
    ("broker", "named"),
    [
        ({"password_file": "p", "acl_file": "a", "max_queue": 5}, "max_queue"),
        ({"password_file": "p"}, "acl_file"),
        ({"password_file": "p", "acl_file": "a", "persistent_client_expiration": "soon"}, "expir"),
    ],
)
def test_broker_config_names_bad_keys(
    broker: dict[str, Any], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["broker-config", "--config", str(_write(tmp_path, broker))]) == 2
    assert named in capsys.readouterr().err


def test_new_events_fed_live_once(world: World, sessions: sessionmaker[Session]) -> None:
    sink = Sink()
    pipeline = IngestPipeline(sessions, device_info, [feed_events(sink)])
    grant = AccessDecision(gate_id="east", decision="granted", reason="match", method="qr")
    message = world.message("gate-e", grant)
    pipeline.process([message])
    pipeline.process([message])
    [(kind, item)] = sink.items
    assert kind == "event"
    assert (item["site_id"], item["gate_id"], item["decision"], item["method"]) == (
        "c1",
        "east",
        "granted",
        "qr",
    )
