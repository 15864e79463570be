"""Reconnect pacing: the delay doubles to its cap and resets only after a stable connection."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from edge.comms.config import MqttConfig
from edge.contract.reconnect import ReconnectBackoff


def _backoff() -> ReconnectBackoff:
    return ReconnectBackoff(min_s=0.5, max_s=4.0, stable_after_s=30.0, rng=random.Random(7))


def test_short_connections_back_off_exponentially_with_jitter_up_to_the_cap() -> None:
    backoff = _backoff()
    steps = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    waits = [backoff.next_wait(connected_s=0.2) for _ in steps]
    assert all(step / 2 <= wait <= step for wait, step in zip(waits, steps, strict=True)), waits
    assert len(set(waits)) == len(waits), "no jitter"


def test_a_stable_connection_resets_the_delay() -> None:
    backoff = _backoff()
    for _ in range(4):
        backoff.next_wait(connected_s=0.0)
    assert backoff.next_wait(connected_s=29.9) >= 4.0 / 2
    assert backoff.next_wait(connected_s=30.0) <= 0.5
    assert backoff.next_wait(connected_s=0.0) <= 1.0


def test_stable_after_s_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="stable_after_s"):
        MqttConfig.model_validate({"stable_after_s": 0})
