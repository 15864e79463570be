"""A duty run in a daemon thread every period (and at once when woken) until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Periodic:
    """Runs ``duty`` every ``period_s``; an exception is logged and the next period comes."""

    def __init__(
        self, name: str, period_s: float, duty: Callable[[], object], run_first: bool = False
    ) -> None:
        self._name = name
        self._period_s = period_s
        self._duty = duty
        self._run_first = run_first
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (running the duty at once when ``run_first``)."""
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run the duty now instead of at the end of the period."""
        self._wake.set()

    def stop(self) -> None:
        """Stop after the running duty, if any; safe when never started."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _once(self) -> None:
        try:
            self._duty()
        except Exception:
            logger.exception("periodic duty failed name=%s; retrying next period", self._name)

    def _run(self) -> None:
        if self._run_first:
            self._once()
        while True:
            self._wake.wait(self._period_s)
            self._wake.clear()
            if self._stopping.is_set():
                return
            self._once()
