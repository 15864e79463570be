"""The node works under a least-privilege broker ACL: its own prefix, its commands, its gallery."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from edge.comms.config import MqttConfig, OutboxConfig, TransportConfig
from edge.contract import Heartbeat, command_topic, gallery_topic
from edge.events.publisher import EventPublisher
from tests.edge.transport.helpers import COMPOUND, DEVICE_KEY, wait_until
from tests.support.services import private_mosquitto

ACL = f"""\
user central
topic readwrite anju/v1/#
pattern write anju/v1/dev/%u/#
pattern read anju/v1/dev/%u/cmd/#
pattern read anju/v1/site/{COMPOUND}/gallery
"""


def test_publisher_under_device_acl(tmp_path: Path, device_id: str) -> None:
    folder = tmp_path / "broker"
    folder.mkdir()
    passwords, acl = folder / "passwd", folder / "acl"
    acl.write_text(ACL)
    for user in ("central", device_id):
        flags = ["-c"] if user == "central" else []
        subprocess.run(["mosquitto_passwd", *flags, "-b", str(passwords), user, "pw"], check=True)
    (tmp_path / "pw").write_text("pw")
    settings = f"allow_anonymous false\npassword_file {passwords}\nacl_file {acl}\n"
    with private_mosquitto(folder, settings) as broker:
        central = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        central.username_pw_set("central", "pw")
        events: list[str] = []
        central.on_message = lambda _c, _u, m: events.append(m.topic)
        subscribed = threading.Event()
        central.on_subscribe = lambda *_: subscribed.set()
        central.connect("127.0.0.1", broker.port)
        central.subscribe("anju/v1/dev/+/events/#", qos=1)
        central.loop_start()
        assert subscribed.wait(10)
        mqtt = MqttConfig(port=broker.port, username=device_id, password_file=tmp_path / "pw")
        config = TransportConfig(mqtt=mqtt, outbox=OutboxConfig(path=tmp_path / "o.sqlite3"))
        publisher = EventPublisher(config, DEVICE_KEY, COMPOUND, device_id)
        received: list[str] = []
        publisher.on_message(lambda topic, _payload: received.append(topic))
        publisher.start()
        try:
            wait_until(lambda: publisher.connected)
            publisher.publish(Heartbeat(uptime_s=1.0, outbox_depth=0))
            wait_until(lambda: publisher.outbox_depth == 0 and len(events) == 1)
            for topic in (command_topic(device_id, "open"), gallery_topic(COMPOUND)):
                central.publish(topic, b"{}", qos=1).wait_for_publish(5)
            wait_until(lambda: len(received) == 2)
        finally:
            publisher.stop()
            central.disconnect()
            central.loop_stop()
    assert events == [f"anju/v1/dev/{device_id}/events/device.heartbeat"]
