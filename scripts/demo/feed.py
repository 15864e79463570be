"""Log central's live feed (``/api/stream``): the terminal shows events and alarms as they flow."""

from __future__ import annotations

import json
import logging
import threading

import httpx

log = logging.getLogger(__name__)
RETRY_S = 2.0


class FeedLogger:
    """A daemon thread reading the SSE stream (logging in at each connection: tokens expire)
    and logging each item in one line."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url
        self._login = {"username": username, "password": password}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-feed", daemon=True)

    def counts(self) -> dict[str, int]:
        """How many items of each event kind and alarm type were seen so far."""
        with self._lock:
            return dict(self._counts)

    def start(self) -> None:
        """Start following the stream."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current read (the thread is a daemon: exit does not wait for it)."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except httpx.HTTPError as exc:
                log.debug("feed_disconnected error=%s", exc)
            self._stop.wait(RETRY_S)

    def _follow(self) -> None:
        answer = httpx.post(f"{self.url}/api/auth/token", data=self._login, timeout=10.0)
        headers = {"Authorization": f"Bearer {answer.raise_for_status().json()['access_token']}"}
        timeout = httpx.Timeout(10.0, read=None)
        stream = f"{self.url}/api/stream"
        with httpx.stream("GET", stream, headers=headers, timeout=timeout) as response:
            response.raise_for_status()
            kind = ""
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    self._show(kind, json.loads(line.removeprefix("data: ")))

    def _show(self, kind: str, item: dict[str, object]) -> None:
        name = str(item.get("kind") or item.get("type") or kind)
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + 1
        fields = ("device_id", "gate_id", "decision", "method", "level", "subject", "state")
        details = " ".join(f"{k}={item[k]}" for k in fields if item.get(k) is not None)
        log.info("live %s=%s %s", kind, name, details)
