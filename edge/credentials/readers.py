"""Card/PIN/QR reader adapters feeding the credential desk: a text stream and local HTTP.

A stream reader takes one presentation per line (``card:NNNN``, ``pin:NNNN``, ``qr:TEXT``),
as keyboard-wedge readers type them on stdin. The HTTP reader serves ``POST /credential``
with ``{"method", "value", "gate_id"?}`` on 127.0.0.1 by default, answering with whether it
was accepted. Malformed input is answered or counted, never fatal.
"""

from __future__ import annotations

import logging
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Literal, Protocol, TextIO

from pydantic import BaseModel, ConfigDict, ValidationError

from edge.credentials.desk import CredentialDesk
from edge.node.http import BackgroundHttpServer, Responder

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4096


class CredentialReader(Protocol):
    """A source of presented credentials."""

    def start(self) -> None: ...
    def stop(self) -> None: ...


class StreamReader:
    """Reads one presentation per line from a text stream (stdin by default) until it ends."""

    def __init__(self, desk: CredentialDesk, gate_id: str, stream: TextIO | None = None) -> None:
        self._desk = desk
        self._gate_id = gate_id
        self._stream = stream or sys.stdin
        self._stopping = threading.Event()

    def start(self) -> None:
        """Start reading in a background thread."""
        self._stopping.clear()
        threading.Thread(target=self._run, name="credential-stream", daemon=True).start()

    def stop(self) -> None:
        """Stop after the current line (the stream itself belongs to the caller)."""
        self._stopping.set()

    def _run(self) -> None:
        try:
            for line in self._stream:
                if self._stopping.is_set():
                    return
                if line.strip():
                    self._desk.submit_line(line, self._gate_id)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            log.error("credential stream failed gate=%s error=%s", self._gate_id, exc)
        log.info("credential stream ended gate=%s", self._gate_id)


class _Presented(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["qr", "card", "pin"]
    value: str
    gate_id: str | None = None


class HttpReader(BackgroundHttpServer):
    """Serves ``POST /credential`` for readers on the local network or machine."""

    def __init__(
        self, desk: CredentialDesk, gate_ids: tuple[str, ...], host: str, port: int
    ) -> None:
        super().__init__((host, port), _handler(desk, gate_ids), "credential-http")


def _handler(desk: CredentialDesk, gate_ids: tuple[str, ...]) -> type[BaseHTTPRequestHandler]:
    class Handler(Responder):
        def do_POST(self) -> None:
            if self.path != "/credential":
                self.send_json(HTTPStatus.NOT_FOUND, {"error": "POST /credential"})
                return
            length_text = self.headers.get("Content-Length") or "0"
            length = int(length_text) if length_text.isdigit() else 0
            if not 0 < length <= MAX_BODY_BYTES:
                self.send_json(HTTPStatus.BAD_REQUEST, {"error": "body missing or too large"})
                return
            try:
                presented = _Presented.model_validate_json(self.rfile.read(length))
            except ValidationError as exc:
                desk.rejected_reads += 1
                self.send_json(HTTPStatus.BAD_REQUEST, {"error": exc.errors()[0]["msg"]})
                return
            gate_id = presented.gate_id or gate_ids[0]
            if gate_id not in gate_ids:
                desk.rejected_reads += 1
                self.send_json(HTTPStatus.BAD_REQUEST, {"error": f"unknown gate {gate_id!r}"})
                return
            attempt = desk.submit(presented.method, presented.value, gate_id)
            self.send_json(HTTPStatus.OK, {"accepted": attempt.accepted, "reason": attempt.reason})

    return Handler
