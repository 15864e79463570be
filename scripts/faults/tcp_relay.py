"""A TCP relay in front of the broker that can cut every connection at once.

Clients connect to the relay's port and their bytes go to the broker untouched. ``cut()``
closes every relayed connection (both sides) and stops listening, so reconnect attempts are
refused as if the broker were gone; ``resume()`` listens again on the same port. The broker
itself keeps running with all its sessions and subscriptions.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
_CHUNK = 65536
T = TypeVar("T")


class TcpRelay:
    """Relays 127.0.0.1:``port`` to 127.0.0.1:``target_port`` on its own event loop thread."""

    def __init__(self, target_port: int, port: int) -> None:
        self.port = port
        self.target_port = target_port
        self.accepted = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="tcp-relay", daemon=True
        )
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Start the loop thread and listen."""
        self._thread.start()
        self.resume()

    def cut(self) -> int:
        """Stop listening and close every relayed connection; how many were open."""
        return self._call(self._cut())

    def resume(self) -> None:
        """Listen again."""
        self._call(self._listen())

    def stop(self) -> None:
        """Cut everything, let the relaying tasks finish and end the loop thread."""
        self.cut()
        self._call(self._settle())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._relay, "127.0.0.1", self.port, backlog=4096, reuse_address=True
            )

    async def _cut(self) -> int:
        if self._server is not None:
            self._server.close()
            self._server = None
        open_writers = list(self._writers)
        for writer in open_writers:
            writer.transport.abort()
        log.info("relay cut connections=%d", len(open_writers) // 2)
        return len(open_writers) // 2

    async def _settle(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        self.accepted += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            broker_in, broker_out = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError as exc:
            log.warning("relay cannot reach broker port=%d error=%s", self.target_port, exc)
            client_out.transport.abort()
            return
        pair = {client_out, broker_out}
        self._writers |= pair
        try:
            await asyncio.gather(_pump(client_in, broker_out), _pump(broker_in, client_out))
        finally:
            self._writers -= pair
            for writer in pair:
                writer.transport.abort()


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy bytes until either side closes, then close the other."""
    try:
        while data := await source.read(_CHUNK):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        sink.transport.abort()
