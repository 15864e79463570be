"""Ingest benchmark: events/s stored (validated, signed, batched, rules running) next to the raw
QoS 1 publish→receive rate of a bare paho subscriber, both through the same private Mosquitto
started with the generated configuration. Prints both rates, checks that every event was stored
exactly once, and prints ``ratio_stored_vs_raw: X`` last.

    python scripts/bench/ingest.py --events 20000 --database-url postgresql+psycopg://postgres@127.0.0.1/anju_bench
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from central.alarms.service import AlarmService
from central.broker.mosquitto import BrokerConfig, policy_block
from central.db.events_models import Event
from central.db.models import Base
from central.db.registry_models import Device
from central.db.session import make_engine, make_session_factory
from central.devices.mosquitto_auth import mosquitto_password_hash
from central.ingest.config import IngestConfig
from central.ingest.mqtt import BrokerTarget
from central.ingest.pipeline import IngestPipeline
from central.ingest.worker import IngestWorker
from central.registry.queries import device_info
from central.rules.config import RulesConfig
from edge.contract import AccessDecision, Envelope, event_topic, public_key_text

USER, PASSWORD = "bench", "bench-secret"


def start_broker(folder: Path, port: int) -> subprocess.Popen[bytes]:
    """Mosquitto with the generated policy and one account allowed everywhere."""
    config = BrokerConfig(password_file=folder / "passwd", acl_file=folder / "acl")
    config.password_file.write_text(f"{USER}:{mosquitto_password_hash(PASSWORD)}\n")
    config.acl_file.write_text(f"user {USER}\ntopic readwrite anju/#\ntopic readwrite $share/#\n")
    run_as = "user root\n" if os.geteuid() == 0 else ""
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\n" + policy_block(config) + run_as)
    broker = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return broker


def client(port: int, client_id: str) -> mqtt.Client:
    """A connected, looping MQTT 5 client."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.username_pw_set(USER, PASSWORD)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def publish(port: int, messages: list[tuple[str, bytes]]) -> None:
    """Publish with QoS 1 and wait for every PUBACK."""
    publisher = client(port, f"bench-pub-{uuid.uuid4().hex[:6]}")
    infos = [publisher.publish(topic, data, qos=1) for topic, data in messages]
    for info in infos:
        info.wait_for_publish(120)
    publisher.disconnect()
    publisher.loop_stop()


def raw_rate(port: int, messages: list[tuple[str, bytes]]) -> float:
    """Messages/s a bare paho subscriber receives."""
    done = threading.Event()
    received = [0]

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        received[0] += 1
        if received[0] == len(messages):
            done.set()

    subscriber = client(port, "bench-raw")
    subscriber.on_message = on_message
    subscriber.subscribe("anju/v1/dev/+/events/#", qos=1)
    time.sleep(0.5)
    start = time.perf_counter()
    publish(port, messages)
    done.wait(300)
    elapsed = time.perf_counter() - start
    subscriber.disconnect()
    subscriber.loop_stop()
    return received[0] / elapsed


def stored_count(sessions: sessionmaker[Session]) -> int:
    """Events in the table."""
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Event)) or 0)


def stored_rate(
    port: int, sessions: sessionmaker[Session], messages: list[tuple[str, bytes]]
) -> float:
    """Events/s stored by one ingest worker with the rules running, timed up to the commit
    that stores the last new event (seen by an after-commit hook, not by polling the table)."""
    alarms = AlarmService(sessions, RulesConfig())
    committed = [0]
    all_stored = threading.Event()

    def count(events: list[Envelope]) -> None:
        committed[0] += len(events)
        if committed[0] >= len(messages):
            all_stored.set()

    worker = IngestWorker(
        BrokerTarget(port=port, client_id="bench-ingest", username=USER, password=PASSWORD),
        IngestPipeline(sessions, device_info, [alarms.on_events, count]),
        IngestConfig(),
        on_backlog=alarms.on_backlog,
    )
    worker.start()
    worker.subscribed.wait(10)
    start = time.perf_counter()
    publish(port, messages)
    all_stored.wait(600)
    elapsed = time.perf_counter() - start
    worker.stop()
    return stored_count(sessions) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--port", type=int, default=18883, help="port of the private broker")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="anju-bench-"))
    engine = make_engine(args.database_url or f"sqlite:///{folder / 'central.db'}")
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    sessions = make_session_factory(engine)
    key = Ed25519PrivateKey.generate()
    with sessions() as session, session.begin():
        public = public_key_text(key.public_key())
        session.add(
            Device(
                id="bench-gate",
                kind="gate",
                site_id="bench-site",
                public_key=public,
                mqtt_username="bench-gate",
                mqtt_password_hash="-",
            )
        )
    decision = AccessDecision(gate_id="g1", decision="denied", reason="no_match", method="card")
    messages = [
        (
            event_topic("bench-gate", "access.decision"),
            Envelope(site_id="bench-site", device_id="bench-gate", payload=decision).signed_json(
                key
            ),
        )
        for _ in range(args.events)
    ]
    broker = start_broker(folder, args.port)
    try:
        raw = raw_rate(args.port, messages)
        print(f"raw_paho_receive_per_s: {raw:.0f}")
        stored = stored_rate(args.port, sessions, messages)
        print(f"stored_per_s: {stored:.0f} ({engine.dialect.name}, rules on)")
        with sessions() as session:
            distinct = session.scalar(select(func.count(func.distinct(Event.event_id))))
        print(
            f"stored_rows: {stored_count(sessions)} distinct: {distinct} published: {args.events}"
        )
        print(f"ratio_stored_vs_raw: {stored / raw:.2f}")
    finally:
        broker.terminate()
        broker.wait(10)


if __name__ == "__main__":
    main()
