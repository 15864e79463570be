"""An ingest worker the broker drops right after each CONNACK backs off instead of flapping.

paho goes back to its shortest reconnect delay after every CONNACK, so without pacing such a
worker retried once a second forever (several workers in step). The relay in front of the real
Mosquitto passes each CONNECT/CONNACK and closes the link at once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from central.ingest.config import IngestConfig
from central.ingest.mqtt import BrokerTarget
from central.ingest.pipeline import IngestPipeline
from central.ingest.worker import IngestWorker
from central.registry.queries import device_info
from tests.support.connack_relay import ConnackThenClose, attempts_grow_apart
from tests.support.services import MOSQUITTO_PORT, require_service

MIN_S = 0.1
MAX_S = 1.6
WINDOW_S = 3.0


@pytest.fixture
def relay() -> Iterator[ConnackThenClose]:
    """A relay in front of the machine's Mosquitto that closes each link after its CONNACK."""
    require_service("Mosquitto", MOSQUITTO_PORT)
    made = ConnackThenClose(MOSQUITTO_PORT, hold_s=0.0)
    yield made
    made.close()


def test_dropped_after_each_connack_the_worker_backs_off(
    relay: ConnackThenClose, sessions: sessionmaker[Session]
) -> None:
    config = IngestConfig(
        reconnect_min_s=MIN_S, reconnect_max_s=MAX_S, stable_after_s=30, session_expiry_s=60
    )
    target = BrokerTarget(port=relay.port, client_id=f"pacing-{uuid.uuid4().hex[:8]}")
    worker = IngestWorker(target, IngestPipeline(sessions, device_info, []), config)
    worker.start()
    try:
        time.sleep(WINDOW_S)
    finally:
        worker.stop()
    attempts_grow_apart(relay.arrivals, MIN_S, MAX_S, WINDOW_S)


def test_reconnect_delays_out_of_order_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="reconnect_max_s"):
        IngestConfig(reconnect_min_s=5, reconnect_max_s=1)
