"""Fixtures for the gate tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.edge.gate.support import Keys, Listener, new_keys
from tests.edge.videogen import face_cuts

__all__ = ["face_cuts", "keys", "listener_factory"]


@pytest.fixture
def keys() -> Keys:
    """Fresh keys for one test."""
    return new_keys()


@pytest.fixture
def listener_factory() -> Iterator[Callable[[str, Any], Listener]]:
    """Make listeners; all are closed afterwards."""
    made: list[Listener] = []

    def make(device_id: str, device_public: Any) -> Listener:
        made.append(Listener(device_id, device_public))
        return made[-1]

    yield make
    for listener in made:
        listener.close()
