"""MQTT client for edge nodes over paho-mqtt 2.x: persistent session, QoS 1, retained status.

The only module that imports paho. One thread runs the network loop, connects with
``clean_start=False`` and a session expiry (MQTT 5; with ``protocol: "3.1.1"``,
``clean_session=False``) so the broker keeps subscriptions and queued messages across
reconnects, and reconnects with jittered exponential backoff that resets only once a
connection stayed up ``stable_after_s`` (a link dropped right after each CONNACK keeps backing
off instead of flapping). On every connect it re-subscribes and then publishes the retained
birth message; the last will is refreshed before each attempt. A refused login stops
retrying. Every paho callback is guarded so an exception is logged and never kills the loop
thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.comms.config import MqttConfig
from edge.contract.reconnect import ReconnectBackoff

log = logging.getLogger(__name__)

# CONNACK reason codes after which retrying with the same settings cannot succeed.
_REFUSED = {0x85, 0x86, 0x87, 0x8A, 0x8C}
_LOOP_TIMEOUT_S = 0.2

MessageHandler = Callable[[str, bytes], None]


class MqttError(Exception):
    """The MQTT link cannot be set up or a message could not be sent."""


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to publish at QoS 1 (birth and will messages are made fresh each time)."""

    topic: str
    payload: bytes
    retain: bool = False


class PublishAck:
    """Resolved when the broker acknowledges one QoS 1 publish (PUBACK), or failed."""

    def __init__(self, mid: int) -> None:
        self.mid = mid
        self._future: Future[None] = Future()

    def wait(self, timeout_s: float) -> bool:
        """True once acknowledged; False on timeout, refusal or lost connection."""
        try:
            self._future.result(timeout=timeout_s)
        except Exception:
            return False
        return True

    def resolve(self, error: Exception | None = None) -> None:
        """Settle the outcome (first call wins)."""
        if self._future.done():
            return
        if error is None:
            self._future.set_result(None)
        else:
            self._future.set_exception(error)


NO_MATCHING_SUBSCRIBERS = 16
"""MQTT 5 PUBACK reason: accepted, but nobody subscribes, so the broker dropped the message."""


def puback_outcome(reason: Any) -> MqttError | None:
    """None when the broker took responsibility for the message, else why it did not.

    "No matching subscribers" counts as not delivered: it happens when central has not (yet)
    subscribed, e.g. after a broker restart that forgot its shared subscription, and the event
    must stay in the outbox until someone can receive it.
    """
    if reason.is_failure:
        return MqttError(f"broker refused: {reason}")
    if reason.value == NO_MATCHING_SUBSCRIBERS:
        return MqttError("no matching subscribers: kept for resend")
    return None


def _guarded(name: str, callback: Callable[..., None]) -> Callable[..., None]:
    def run(*args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("mqtt callback failed callback=%s", name)

    return run


def _loop_thread_writes(_client: paho.Client, _userdata: Any, _sock: Any) -> None:
    """Nothing to do: the loop thread's select() already watches the socket for writing."""


class MqttClient:
    """A reconnecting MQTT client (5 or 3.1.1); ``publish`` returns a ``PublishAck``."""

    def __init__(
        self,
        config: MqttConfig,
        client_id: str,
        will: Callable[[], OutgoingMessage] | None = None,
        birth: Callable[[], OutgoingMessage] | None = None,
    ) -> None:
        self._config = config
        self._will = will
        self._birth = birth
        mqtt5 = config.protocol == "5"
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv5 if mqtt5 else paho.MQTTv311,
            clean_session=None if mqtt5 else False,
        )
        self._configure_security()
        self._client.on_connect = _guarded("on_connect", self._on_connect)
        self._client.on_disconnect = _guarded("on_disconnect", self._on_disconnect)
        self._client.on_publish = _guarded("on_publish", self._on_publish)
        self._client.on_message = _guarded("on_message", self._on_message)
        self._client.on_subscribe = _guarded("on_subscribe", self._on_subscribe)
        # With a write-registration hook set, paho only queues packets in the caller's thread
        # and the loop thread writes them: two threads never write to the socket at once.
        self._client.on_socket_register_write = _loop_thread_writes
        self._filters: list[str] = []
        self._handlers: list[MessageHandler] = []
        self._lock = threading.Lock()
        self._pending: dict[int, PublishAck] = {}
        self._early_acks: dict[int, MqttError | None] = {}
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._accepted_at: float | None = None
        self.failure: str | None = None

    def _configure_security(self) -> None:
        config = self._config
        if config.username is not None:
            password = None
            if config.password_file is not None:
                try:
                    password = config.password_file.read_text(encoding="utf-8").strip()
                except OSError as exc:
                    raise MqttError(f"cannot read mqtt.password_file: {exc}") from exc
            self._client.username_pw_set(config.username, password)
        if config.tls is not None:
            tls = config.tls
            try:
                self._client.tls_set(
                    ca_certs=str(tls.ca_file) if tls.ca_file else None,
                    certfile=str(tls.cert_file) if tls.cert_file else None,
                    keyfile=str(tls.key_file) if tls.key_file else None,
                )
            except (OSError, ValueError) as exc:
                raise MqttError(f"cannot set up mqtt.tls: {exc}") from exc
            self._client.tls_insecure_set(tls.insecure)

    @property
    def connected(self) -> bool:
        """Whether the broker accepted the current connection."""
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        """Wait until connected; False on timeout."""
        return self._connected.wait(timeout_s)

    def subscribe(self, topic_filter: str) -> None:
        """Subscribe at QoS 1 now (if connected) and on every later connect."""
        self._filters.append(topic_filter)
        if self.connected:
            self._client.subscribe(topic_filter, qos=1)

    def on_message(self, handler: MessageHandler) -> None:
        """Call ``handler(topic, payload)`` for every message received."""
        self._handlers.append(handler)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> PublishAck:
        """Send at QoS 1; the returned ack resolves on PUBACK (fails at once when offline)."""
        if not self.connected:
            ack = PublishAck(-1)
            ack.resolve(MqttError("not connected"))
            return ack
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        ack = PublishAck(info.mid)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            ack.resolve(MqttError(f"not sent: {paho.error_string(info.rc)}"))
            return ack
        with self._lock:
            if info.mid in self._early_acks:
                ack.resolve(self._early_acks.pop(info.mid))
            else:
                self._pending[info.mid] = ack
        return ack

    def start(self) -> None:
        """Start the network thread, which connects and keeps reconnecting."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="mqtt-loop", daemon=True)
        self._thread.start()

    def stop(self, last: OutgoingMessage | None = None, timeout_s: float = 2.0) -> None:
        """Publish ``last`` if connected (e.g. a retained offline status), then disconnect."""
        if last is not None and self.connected:
            self.publish(last.topic, last.payload, last.retain).wait(timeout_s)
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_s + 1.0)
            self._thread = None

    def _run(self) -> None:
        config = self._config
        backoff = ReconnectBackoff(
            config.reconnect_min_s, config.reconnect_max_s, config.stable_after_s
        )
        while not self._stopping.is_set():
            self._accepted_at = None
            self._connect_and_loop()
            if self.failure is not None or self._stopping.is_set():
                break
            accepted_at = self._accepted_at
            connected_s = 0.0 if accepted_at is None else time.monotonic() - accepted_at
            wait_s = backoff.next_wait(connected_s)
            log.info("mqtt reconnecting wait_s=%.2f connected_s=%.2f", wait_s, connected_s)
            self._stopping.wait(wait_s)

    def _connect_and_loop(self) -> None:
        config = self._config
        if self._will is not None:
            will = self._will()
            self._client.will_set(will.topic, will.payload, qos=1, retain=will.retain)
        try:
            self._client.connect(
                config.host, config.port, config.keepalive_s, **self._session_options()
            )
        except (OSError, ValueError) as exc:
            log.warning(
                "mqtt connect failed host=%s port=%d error=%s", config.host, config.port, exc
            )
            return
        while not self._stopping.is_set():
            if self._client.loop(_LOOP_TIMEOUT_S) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return
        self._client.disconnect()
        for _ in range(10):
            if self._client.loop(_LOOP_TIMEOUT_S) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                break

    def _session_options(self) -> dict[str, Any]:
        """MQTT 5: resume the session and keep it ``session_expiry_s`` offline; 3.1.1 needs
        nothing here (the client was made with ``clean_session=False``)."""
        if self._config.protocol != "5":
            return {}
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self._config.session_expiry_s
        return {"clean_start": False, "properties": properties}

    def _on_connect(self, client: paho.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            if reason.value in _REFUSED:
                self.failure = f"broker refused the connection: {reason}"
                log.error("mqtt login refused reason=%s; not retrying", reason)
            else:
                log.warning("mqtt connect rejected reason=%s", reason)
            return
        for topic_filter in self._filters:
            client.subscribe(topic_filter, qos=1)
        self._accepted_at = time.monotonic()
        self._connected.set()
        if self._birth is not None:
            birth = self._birth()
            self.publish(birth.topic, birth.payload, birth.retain)
        log.info(
            "mqtt connected host=%s session_present=%s", self._config.host, flags.session_present
        )

    def _on_disconnect(self, _c: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._connected.clear()
        with self._lock:
            pending, self._pending = self._pending, {}
            self._early_acks.clear()
        for ack in pending.values():
            ack.resolve(MqttError("connection lost before PUBACK"))
        level = logging.INFO if self._stopping.is_set() else logging.WARNING
        log.log(level, "mqtt disconnected reason=%s unacked=%d", reason, len(pending))

    def _on_publish(self, _c: paho.Client, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        outcome = puback_outcome(reason)
        with self._lock:
            ack = self._pending.pop(mid, None)
            if ack is None:
                self._early_acks[mid] = outcome
                return
        ack.resolve(outcome)

    def _on_message(self, _c: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
        for handler in self._handlers:
            try:
                handler(message.topic, bytes(message.payload))
            except Exception:
                log.exception("mqtt message handler failed topic=%s", message.topic)

    def _on_subscribe(self, _c: paho.Client, _u: Any, mid: int, reasons: Any, _p: Any) -> None:
        refused = [reason for reason in reasons if reason.is_failure]
        if refused:
            log.error("mqtt subscription refused mid=%d reasons=%s", mid, refused)
