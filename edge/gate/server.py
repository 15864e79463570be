"""A small stdlib HTTP endpoint on the node: evidence pulled by central, and metrics.

``GET /evidence/<id>`` returns the JPEG; ``GET /metrics`` returns Prometheus text. Both need
``Authorization: Bearer <token>`` (compared in constant time); anything else is 401 or 404.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from edge.gate.evidence import EvidenceStore

log = logging.getLogger(__name__)

MetricsSource = Callable[[], dict[str, float]]


class EvidenceServer:
    """Serves evidence and metrics on its own thread."""

    def __init__(
        self, store: EvidenceStore, token: str, metrics: MetricsSource, address: tuple[str, int]
    ) -> None:
        if len(token) < 16:
            raise ValueError("the evidence token must be at least 16 characters")
        self._httpd = ThreadingHTTPServer(address, _handler(store, token.encode(), metrics))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="evidence-http")

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._httpd.server_address[1])

    def start(self) -> None:
        """Start serving."""
        self._thread.daemon = True
        self._thread.start()
        log.info("event=evidence_server_started port=%d", self.port)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()


def render_metrics(values: dict[str, float]) -> str:
    """Prometheus text exposition of ``values`` (names may carry ``{labels}``)."""
    return "".join(f"anju_gate_{name} {value:g}\n" for name, value in sorted(values.items()))


def _handler(
    store: EvidenceStore, token: bytes, metrics: MetricsSource
) -> type[BaseHTTPRequestHandler]:
    expected = b"Bearer " + token

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            presented = self.headers.get("Authorization", "").encode("latin-1", "replace")
            if not hmac.compare_digest(presented, expected):
                self._send(401, b"unauthorized\n", "text/plain")
                return
            if self.path == "/metrics":
                body = render_metrics(metrics()).encode()
                self._send(200, body, "text/plain; version=0.0.4")
                return
            found = None
            if self.path.startswith("/evidence/"):
                found = store.path(self.path.removeprefix("/evidence/"))
            if found is None:
                self._send(404, b"not found\n", "text/plain")
                return
            try:
                body = found.read_bytes()
            except OSError:
                self._send(404, b"not found\n", "text/plain")
                return
            self._send(200, body, "image/jpeg")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("event=http_request line=%r", format % args)

    return Handler
