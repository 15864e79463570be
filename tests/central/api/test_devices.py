"""Provisioning: secrets returned once, public parts stored, broker files Mosquitto enforces."""

from __future__ import annotations

import os
import queue
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from central.db.registry_models import Device
from edge.contract import (
    load_private_key,
    load_public_key,
    public_key_text,
    sign_message,
    verify_message,
)
from tests.central.api.conftest import Central
from tests.central.api.world import World, bearer, post
from tests.support.services import private_mosquitto

RUN_AS_ROOT = "user root\n" if os.geteuid() == 0 else ""
TIMEOUT_S = 10.0


def _provision(central: Central, world: World) -> dict[str, Any]:
    return post(
        central.client,
        world.tokens["admin_a"],
        "/api/devices",
        {"kind": "gate", "gate_id": world.ids["a"]["gate_id"]},
    )


def test_secrets_are_returned_once_and_not_stored(central: Central, world: World) -> None:
    made = _provision(central, world)
    device_id = made["device"]["id"]
    key = load_private_key(made["private_key"])
    assert public_key_text(key.public_key()) == made["device"]["public_key"]
    verify_message(sign_message({"x": 1}, key), load_public_key(made["device"]["public_key"]))
    fetched = central.client.get(
        f"/api/devices/{device_id}", headers=bearer(world.tokens["admin_a"])
    )
    assert made["private_key"] not in fetched.text and made["mqtt_password"] not in fetched.text
    with central.sessions() as session:
        row = session.get(Device, device_id)
        assert row is not None
        stored = " ".join(str(v) for v in vars(row).values())
    assert made["private_key"] not in stored and made["mqtt_password"] not in stored
    assert row.mqtt_password_hash.startswith("$7$")


def test_broker_files_list_active_devices_with_their_acl(central: Central, world: World) -> None:
    made = _provision(central, world)
    device_id, site = made["device"]["id"], made["device"]["site_id"]
    passwd = central.settings.mqtt.passwd_path
    acl = central.settings.mqtt.acl_path
    assert passwd is not None and acl is not None
    assert f"{device_id}:$7$" in passwd.read_text()
    assert oct(passwd.stat().st_mode & 0o777) == "0o600"
    block = acl.read_text().split(f"user {device_id}\n")[1].split("\n\n")[0]
    assert block.splitlines() == [
        f"topic write anju/v1/dev/{device_id}/#",
        f"topic read anju/v1/dev/{device_id}/cmd/#",
        f"topic read anju/v1/site/{site}/gallery",
    ]
    headers = bearer(world.tokens["admin_a"])
    central.client.post(f"/api/devices/{device_id}/deactivate", headers=headers)
    assert f"{device_id}:" not in passwd.read_text()
    assert f"user {device_id}\n" not in acl.read_text()


@contextmanager
def _client(
    port: int, username: str, password: str
) -> Iterator[tuple[mqtt.Client, queue.Queue[Any]]]:
    inbox: queue.Queue[Any] = queue.Queue()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=username)
    client.username_pw_set(username, password)
    client.on_connect = lambda c, u, f, reason, p: inbox.put(("connack", reason.is_failure))
    client.on_message = lambda c, u, message: inbox.put((message.topic, message.payload))
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        yield client, inbox
    finally:
        client.disconnect()
        client.loop_stop()


def test_mosquitto_enforces_the_written_files(central: Central, world: World) -> None:
    a, b = _provision(central, world), _provision(central, world)
    id_a, id_b = a["device"]["id"], b["device"]["id"]
    settings = central.settings.mqtt
    config = (
        f"allow_anonymous false\npassword_file {settings.passwd_path}\n"
        f"acl_file {settings.acl_path}\n"
    )
    with private_mosquitto(central.folder / "broker", config + RUN_AS_ROOT) as broker:
        with _client(broker.port, id_a, "wrong password") as (_, inbox):
            assert inbox.get(timeout=TIMEOUT_S) == ("connack", True)
        with (
            _client(broker.port, id_a, a["mqtt_password"]) as (client_a, inbox_a),
            _client(broker.port, id_b, b["mqtt_password"]) as (client_b, inbox_b),
        ):
            assert inbox_a.get(timeout=TIMEOUT_S) == ("connack", False)
            assert inbox_b.get(timeout=TIMEOUT_S) == ("connack", False)
            client_a.subscribe(f"anju/v1/dev/{id_a}/cmd/#", qos=1)
            client_a.subscribe(f"anju/v1/dev/{id_b}/#", qos=1)
            client_b.publish(f"anju/v1/dev/{id_a}/cmd/open", b"forged", qos=1).wait_for_publish(
                TIMEOUT_S
            )
            client_b.publish(f"anju/v1/dev/{id_b}/events/x", b"private", qos=1).wait_for_publish(
                TIMEOUT_S
            )
            client_a.publish(f"anju/v1/dev/{id_a}/cmd/marker", b"own", qos=1).wait_for_publish(
                TIMEOUT_S
            )
            assert inbox_a.get(timeout=TIMEOUT_S) == (f"anju/v1/dev/{id_a}/cmd/marker", b"own")
            assert inbox_a.empty()
