"""In-process fan-out of live items (events, alarms) to stream subscribers.

``publish`` may be called from any thread (the ingest worker's); each subscriber gets its own
bounded queue on its event loop, and a slow subscriber loses its oldest items, counted, rather
than holding up ingest or growing without bound.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncGenerator
from typing import Any

log = logging.getLogger(__name__)
Item = tuple[str, dict[str, Any]]


class _Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Item] = asyncio.Queue(maxsize=capacity)
        self.dropped = 0

    def offer(self, item: Item) -> None:
        """Runs on the subscriber's loop: enqueue, dropping the oldest item when full."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)


class EventBus:
    """Thread-safe publish, async subscribe."""

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self._subscribers: set[_Subscriber] = set()
        self._lock = threading.Lock()

    @property
    def subscriber_count(self) -> int:
        """How many subscribers are listening now."""
        with self._lock:
            return len(self._subscribers)

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Hand ``(kind, data)`` to every subscriber; never blocks, never raises."""
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.offer, (kind, data))
            except RuntimeError:
                with self._lock:
                    self._subscribers.discard(subscriber)

    async def subscribe(self) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        """Every item published from now on, until the caller stops iterating."""
        subscriber = _Subscriber(asyncio.get_running_loop(), self.capacity)
        with self._lock:
            self._subscribers.add(subscriber)
        try:
            while True:
                yield await subscriber.queue.get()
        finally:
            with self._lock:
                self._subscribers.discard(subscriber)
            if subscriber.dropped:
                log.warning("stream_subscriber_dropped items=%d", subscriber.dropped)
