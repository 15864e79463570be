"""The sender's real name: ID numbers from an ID-card reader, matched to parcels by time.

Readers hand in the number an ID-card reader (or OCR of the card) produced: one
``id:NUMBER`` line per card on a text stream such as stdin, or ``POST /sender`` with
``{"id_number": "..."}`` on a local HTTP port. Each number is validated at once; only its
keyed hash and masked form are kept. A parcel takes the latest read from ``lead_s`` before its
session started until it ended.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Literal, TextIO

from edge.node.http import BackgroundHttpServer, Responder
from edge.outlet.idcard import IdNumberError, SenderId, protect, validate_id_number

log = logging.getLogger(__name__)

Status = Literal["verified", "invalid"]
_MAX_BODY_BYTES = 1024
_KEPT = 64


@dataclass(frozen=True)
class SenderRead:
    """One presented ID card: validated (with its protected form) or not."""

    status: Status
    sender: SenderId | None
    read_s: float


class SenderDesk:
    """Collects ID reads (thread-safe) and hands the right one to each parcel."""

    def __init__(self, hash_key: bytes, lead_s: float) -> None:
        if len(hash_key) < 16:
            raise ValueError("the sender hash key must be at least 16 bytes")
        self._key = hash_key
        self._lead_s = lead_s
        self._reads: deque[SenderRead] = deque(maxlen=_KEPT)
        self._lock = threading.Lock()
        self.rejected = 0

    def submit(self, id_number: str, read_s: float | None = None) -> SenderRead:
        """Validate and record one presented number (``read_s``: monotonic, default now)."""
        when = time.monotonic() if read_s is None else read_s
        try:
            read = SenderRead("verified", protect(validate_id_number(id_number), self._key), when)
        except IdNumberError as exc:
            log.warning("event=sender_id_rejected reason=%s", exc.reason)
            read = SenderRead("invalid", None, when)
        with self._lock:
            self._reads.append(read)
        self.rejected += read.status == "invalid"  # counted once recorded: readers poll it
        return read

    def for_parcel(self, started_s: float, ended_s: float) -> SenderRead | None:
        """The latest read between ``lead_s`` before ``started_s`` and ``ended_s``."""
        with self._lock:
            fitting = [r for r in self._reads if started_s - self._lead_s <= r.read_s <= ended_s]
        return fitting[-1] if fitting else None


class StreamSenderReader:
    """Reads ``id:NUMBER`` lines from a text stream (stdin by default) until it ends."""

    def __init__(self, desk: SenderDesk, stream: TextIO | None = None) -> None:
        self._desk = desk
        self._stream = stream or sys.stdin

    def start(self) -> None:
        """Read in a background thread."""
        threading.Thread(target=self._run, name="sender-stream", daemon=True).start()

    def stop(self) -> None:
        """Nothing to do: the thread ends with its stream."""

    def _run(self) -> None:
        try:
            for line in self._stream:
                prefix, _, value = line.strip().partition(":")
                if prefix == "id" and value:
                    self._desk.submit(value)
                elif line.strip():
                    self._desk.rejected += 1
                    log.warning("event=sender_line_rejected reason=format")
        except (OSError, ValueError) as exc:
            log.error("event=sender_stream_failed error=%r", exc)


class HttpSenderReader(BackgroundHttpServer):
    """Serves ``POST /sender`` for an ID-card reader on the local machine or network."""

    def __init__(self, desk: SenderDesk, host: str, port: int) -> None:
        super().__init__((host, port), _handler(desk), "sender-http")


def _handler(desk: SenderDesk) -> type[BaseHTTPRequestHandler]:
    class Handler(Responder):
        def do_POST(self) -> None:
            length_text = self.headers.get("Content-Length") or "0"
            length = int(length_text) if length_text.isdigit() else 0
            if self.path != "/sender" or not 0 < length <= _MAX_BODY_BYTES:
                self.send_json(HTTPStatus.BAD_REQUEST, {"error": "POST /sender with a small body"})
                return
            try:
                body = json.loads(self.rfile.read(length))
                number = body["id_number"]
                if not isinstance(number, str):
                    raise TypeError("id_number must be a string")
            except (ValueError, KeyError, TypeError) as exc:
                desk.rejected += 1
                self.send_json(HTTPStatus.BAD_REQUEST, {"error": f"bad body: {exc}"})
                return
            read = desk.submit(number)
            masked = read.sender.masked if read.sender else None
            self.send_json(HTTPStatus.OK, {"status": read.status, "masked": masked})

    return Handler
