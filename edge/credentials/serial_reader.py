"""Serial card/PIN reader adapter, behind an optional import of ``pyserial``."""

from __future__ import annotations

import logging
import threading
from typing import Any

from edge.credentials.desk import CredentialDesk

log = logging.getLogger(__name__)

_RETRY_S = 2.0


class ReaderError(Exception):
    """A credential reader cannot be set up here."""


class SerialReader:
    """Reads ``card:NNNN`` / ``pin:NNNN`` lines from a serial port; reopens it if it drops."""

    def __init__(self, desk: CredentialDesk, gate_id: str, device: str, baudrate: int) -> None:
        try:
            import serial
        except ImportError as exc:
            raise ReaderError(
                "credential reader 'serial' needs the pyserial package (pip install pyserial)"
            ) from exc
        self._serial: Any = serial
        self._desk = desk
        self._gate_id = gate_id
        self._device = device
        self._baudrate = baudrate
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start reading in a background thread."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="credential-serial", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop reading (within about a second)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(_RETRY_S + 1.0)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with self._serial.Serial(self._device, self._baudrate, timeout=1.0) as port:
                    self._read(port)
            except (OSError, self._serial.SerialException) as exc:
                log.error("credential serial failed device=%s error=%s", self._device, exc)
                self._stopping.wait(_RETRY_S)

    def _read(self, port: Any) -> None:
        while not self._stopping.is_set():
            line = port.readline().decode("utf-8", errors="replace")
            if line.strip():
                self._desk.submit_line(line, self._gate_id)
