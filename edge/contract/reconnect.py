"""Reconnect pacing for every MQTT client of the system (edge nodes and central's ingest
workers): jittered exponential backoff that resets only after a stable connection.

A connection the broker accepts and then drops at once (a bad ACL, a session takeover, a
proxy that cuts idle clients) must not reset the delay, or the client retries several times
a second and brokers with flapping detection (EMQX) ban it. The delay therefore returns to
its minimum only after a connection stayed up for ``stable_after_s``.
"""

from __future__ import annotations

import random


class ReconnectBackoff:
    """The waits between connection attempts: each drawn from ``[delay / 2, delay]``, the delay
    doubling from ``min_s`` up to ``max_s`` and back to ``min_s`` after a stable connection."""

    def __init__(
        self,
        min_s: float,
        max_s: float,
        stable_after_s: float,
        rng: random.Random | None = None,
    ) -> None:
        self._min_s = min_s
        self._max_s = max_s
        self._stable_after_s = stable_after_s
        self._rng = rng or random.Random()
        self._delay_s = min_s

    def next_wait(self, connected_s: float) -> float:
        """The wait before the next attempt, given how long the last attempt's connection
        stayed up after the broker accepted it (0 when it never was)."""
        if connected_s >= self._stable_after_s:
            self._delay_s = self._min_s
        wait_s = self._rng.uniform(self._delay_s / 2, self._delay_s)
        self._delay_s = min(self._delay_s * 2, self._max_s)
        return wait_s
