"""Card/PIN/QR reader adapters feeding the credential desk: a text stream and local HTTP.

A stream reader takes one presentation per line (``card:NNNN``, ``pin:NNNN``, ``qr:TEXT``),
as keyboard-wedge readers type them on stdin. The HTTP reader serves ``POST /credential``
with ``{"method", "value", "gate_id"?}`` on 127.0.0.1 by default, answering with whether it
was accepted. Malformed input is answered or counted, never fatal.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal, Protocol, TextIO

from pydantic import BaseModel, ConfigDict, ValidationError

from edge.credentials.desk import CredentialDesk

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


class HttpReader:
    """Serves ``POST /credential`` for readers on the local network or machine."""

    def __init__(
        self, desk: CredentialDesk, gate_ids: tuple[str, ...], host: str, port: int
    ) -> None:
        self._server = ThreadingHTTPServer((host, port), _handler(desk, gate_ids))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="credential-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()


def _handler(desk: CredentialDesk, gate_ids: tuple[str, ...]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != "/credential":
                self._reply(HTTPStatus.NOT_FOUND, {"error": "POST /credential"})
                return
            length_text = self.headers.get("Content-Length") or "0"
            length = int(length_text) if length_text.isdigit() else 0
            if not 0 < length <= MAX_BODY_BYTES:
                self._reply(HTTPStatus.BAD_REQUEST, {"error": "body missing or too large"})
                return
            try:
                presented = _Presented.model_validate_json(self.rfile.read(length))
            except ValidationError as exc:
                desk.rejected_reads += 1
                self._reply(HTTPStatus.BAD_REQUEST, {"error": exc.errors()[0]["msg"]})
                return
            gate_id = presented.gate_id or gate_ids[0]
            if gate_id not in gate_ids:
                desk.rejected_reads += 1
                self._reply(HTTPStatus.BAD_REQUEST, {"error": f"unknown gate {gate_id!r}"})
                return
            attempt = desk.submit(presented.method, presented.value, gate_id)
            self._reply(HTTPStatus.OK, {"accepted": attempt.accepted, "reason": attempt.reason})

        def _reply(self, status: HTTPStatus, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("credential http " + format, *args)

    return Handler
