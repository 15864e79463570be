"""Failed-login limiter per username and client address (sliding window, in memory)."""

from __future__ import annotations

import threading
import time
from collections import deque

WINDOW_S = 60.0
MAX_TRACKED = 10_000


class LoginLimiter:
    """Refuses a (username, address) pair after ``max_failures`` failures within a minute."""

    def __init__(self, max_failures: int, window_s: float = WINDOW_S) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def blocked(self, username: str, address: str) -> bool:
        """Whether this pair has used up its failures."""
        with self._lock:
            key = (username.lower(), address)
            blocked = len(self._recent(key, time.monotonic())) >= self.max_failures
            if not self._failures[key]:
                del self._failures[key]
            return blocked

    def failed(self, username: str, address: str) -> None:
        """Count one failure (forgetting stale pairs when many are tracked)."""
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= MAX_TRACKED:
                self._failures = {
                    key: times
                    for key, times in self._failures.items()
                    if times and now - times[-1] <= self.window_s
                }
            self._recent((username.lower(), address), now).append(now)

    def succeeded(self, username: str, address: str) -> None:
        """Forget this pair's failures."""
        with self._lock:
            self._failures.pop((username.lower(), address), None)
