"""Fixtures for the gate transport tests: the broker, publishers and subscribers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from edge.events.publisher import EventPublisher
from tests.edge.transport.helpers import COMPOUND, DEVICE_KEY, Subscriber, transport_config
from tests.support.services import MOSQUITTO_PORT, require_service


@pytest.fixture
def mosquitto() -> int:
    """The machine's Mosquitto port (skips, or fails with CI=true, when it is down)."""
    require_service("Mosquitto", MOSQUITTO_PORT)
    return MOSQUITTO_PORT


@pytest.fixture
def device_id() -> str:
    """A device id of this test's own, so retained statuses never mix between tests."""
    return f"gate-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_publisher(tmp_path: Path, device_id: str) -> Iterator[Callable[..., EventPublisher]]:
    """Start publishers for this test's device; all stopped afterwards."""
    started: list[EventPublisher] = []

    def make(port: int, **outbox: Any) -> EventPublisher:
        publisher = EventPublisher(
            transport_config(tmp_path, port, **outbox), DEVICE_KEY, COMPOUND, device_id
        )
        publisher.start()
        started.append(publisher)
        return publisher

    yield make
    for publisher in started:
        publisher.stop()


@pytest.fixture
def subscribers() -> Iterator[list[Subscriber]]:
    """A list to put subscribers in; all closed afterwards."""
    made: list[Subscriber] = []
    yield made
    for subscriber in made:
        subscriber.close()
