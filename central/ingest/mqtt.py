"""Paho clients for central: where the broker is, an MQTT 5 (or 3.1.1) client, the events
subscription, and a blocking publisher."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from central.core.settings import CentralMqttConfig
from edge.contract.topics import ROOT, MqttProtocol

logger = logging.getLogger(__name__)


class BrokerError(RuntimeError):
    """The broker could not be reached, refused us, or did not confirm a publish in time."""


@dataclass(frozen=True)
class BrokerTarget:
    """Where the broker is and who central is there."""

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "anju-central"
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: Path | None = None
    protocol: MqttProtocol = "5"


def make_client(
    target: BrokerTarget, client_id: str, manual_ack: bool = False, persistent: bool = False
) -> mqtt.Client:
    """A client for ``target`` in its protocol (not yet connected); a ``persistent`` 3.1.1
    client asks for ``clean_session=False`` (MQTT 5 says so at connect: ``resume_session``)."""
    mqtt5 = target.protocol == "5"
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5 if mqtt5 else mqtt.MQTTv311,
        clean_session=None if mqtt5 else not persistent,
        manual_ack=manual_ack,
    )
    if target.username is not None:
        client.username_pw_set(target.username, target.password)
    if target.tls:
        client.tls_set(ca_certs=str(target.ca_file) if target.ca_file else None)
        client.tls_insecure_set(False)
    return client


def resume_session(
    target: BrokerTarget, session_expiry_s: int, receive_maximum: int
) -> dict[str, Any]:
    """``connect`` keyword arguments resuming a persistent session: MQTT 5 with an expiry and
    ``receive_maximum`` messages in flight; none over 3.1.1 (see ``make_client``)."""
    if target.protocol != "5":
        return {}
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = session_expiry_s
    properties.ReceiveMaximum = receive_maximum
    return {"clean_start": False, "properties": properties}


def end_session() -> Properties:
    """MQTT 5 DISCONNECT properties that end the persistent session (expiry 0)."""
    properties = Properties(PacketTypes.DISCONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 0
    return properties


def event_subscription(config: CentralMqttConfig) -> str:
    """Every device's events and statuses: shared by the ingest workers of ``shared_group``
    over MQTT 5; over 3.1.1, which has no shared subscriptions, one worker takes them all."""
    every_device = f"{ROOT}/dev/+/+/#"
    if config.protocol != "5":
        logger.info(
            "ingest unshared subscription=%s protocol=%s (shared subscriptions need MQTT 5: "
            "run one ingest worker)",
            every_device,
            config.protocol,
        )
        return every_device
    return f"$share/{config.shared_group}/{every_device}"


class MqttPublisher:
    """Publishes and waits for the broker's acknowledgement (QoS 1); reconnects by itself."""

    def __init__(self, target: BrokerTarget, client_id: str, timeout_s: float = 10.0) -> None:
        self._client = make_client(target, client_id)
        self._timeout_s = timeout_s
        self._connected = threading.Event()
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.connect_async(target.host, target.port, keepalive=30)
        self._client.loop_start()

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        if rc.is_failure:
            logger.error("mqtt publisher connect refused reason=%s", rc)
            return
        self._connected.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        self._connected.clear()

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Publish with QoS 1; ``BrokerError`` unless the broker acknowledged it in time."""
        if not self._connected.wait(self._timeout_s):
            raise BrokerError(f"not connected to the broker, cannot publish {topic}")
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        try:
            info.wait_for_publish(self._timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise BrokerError(f"publish to {topic} failed: {exc}") from exc
        if not info.is_published():
            raise BrokerError(f"broker did not acknowledge {topic} in {self._timeout_s} s")

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self._client.disconnect()
        self._client.loop_stop()


def broker_target(config: CentralMqttConfig, client_id: str | None = None) -> BrokerTarget:
    """The broker as central's settings describe it; ``client_id`` overrides the configured one."""
    password = None
    if config.password_file is not None:
        try:
            password = config.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise BrokerError(f"cannot read MQTT password file: {exc}") from exc
    return BrokerTarget(
        host=config.host,
        port=config.port,
        client_id=client_id or config.client_id,
        username=config.username,
        password=password,
        tls=config.tls,
        ca_file=config.ca_file,
        protocol=config.protocol,
    )
