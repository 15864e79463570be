"""Starting and stopping a node's parts in a safe order.

The publisher connects first so that whatever the inputs (cameras, readers, tickers) produce
is queued; on the way down the inputs stop first, what they leave is drained, and only then
do the evidence endpoint and the publisher go.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol


class Part(Protocol):
    """Something a node starts and stops."""

    def start(self) -> None: ...
    def stop(self) -> None: ...


def start_parts(publisher: Part, inputs: Sequence[Part], server: Part | None) -> None:
    """Start the publisher, then the inputs in order, then the endpoint (if any)."""
    publisher.start()
    for part in inputs:
        part.start()
    if server is not None:
        server.start()


def stop_parts(
    inputs: Sequence[Part],
    server: Part | None,
    publisher: Part,
    drain: Callable[[], object] | None = None,
) -> None:
    """Stop the inputs in order, run ``drain``, then stop the endpoint and the publisher."""
    for part in inputs:
        part.stop()
    if drain is not None:
        drain()
    if server is not None:
        server.stop()
    publisher.stop()
