"""No event is lost when the broker restarts mid-stream or the node is SIGKILLed."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from edge.contract import Heartbeat
from edge.events.publisher import EventPublisher
from tests.edge.transport.helpers import (
    HELPER_COMMAND,
    REPO,
    Subscriber,
    wait_until,
)
from tests.support.services import PrivateMosquitto

Maker = Callable[..., EventPublisher]
EVENTS = 200
RATE_PER_S = 50


def test_broker_restart_mid_stream_loses_nothing(
    tmp_path: Path, device_id: str, make_publisher: Maker, subscribers: list[Subscriber]
) -> None:
    broker = PrivateMosquitto(tmp_path / "broker")
    broker.start()
    try:
        central = Subscriber(broker.port, f"anju/v1/dev/{device_id}/events/#", "central-r")
        subscribers.append(central)
        publisher = make_publisher(broker.port)
        sent: list[str] = []
        for i in range(EVENTS):
            sent.append(str(publisher.publish(Heartbeat(uptime_s=i, outbox_depth=0)).event_id))
            if i == 70:
                broker.stop()
            if i == 130:
                broker.start()
            time.sleep(1 / RATE_PER_S)
        wait_until(lambda: set(central.event_ids()) >= set(sent), timeout_s=30)
        wait_until(lambda: publisher.outbox_depth == 0)
    finally:
        broker.stop()
    received = central.event_ids()
    assert set(received) == set(sent), "every event exactly once after dedup by event id"
    assert len(received) >= EVENTS


def test_sigkilled_node_keeps_its_outbox_and_drains_it_after_restart(
    mosquitto: int,
    tmp_path: Path,
    device_id: str,
    make_publisher: Maker,
    subscribers: list[Subscriber],
) -> None:
    central = Subscriber(mosquitto, f"anju/v1/dev/{device_id}/events/#")
    subscribers.append(central)
    outbox = tmp_path / "outbox.sqlite3"
    args = ["stream", str(outbox), str(mosquitto), device_id, str(EVENTS), "100"]
    node = subprocess.Popen([*HELPER_COMMAND, *args], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert node.stdout is not None
    published = [node.stdout.readline().strip() for _ in range(60)]
    node.send_signal(signal.SIGKILL)
    node.wait()
    db = sqlite3.connect(outbox)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = {row[0] for row in db.execute("SELECT event_id FROM outbox")}
    db.close()
    assert set(published) <= set(central.event_ids()) | stored, "published means kept"
    publisher = make_publisher(mosquitto)
    wait_until(lambda: publisher.outbox_depth == 0)
    wait_until(lambda: set(central.event_ids()) >= set(published) | stored)
