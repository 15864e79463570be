"""The node's small local HTTP endpoints: a server on its own thread and a handler base.

Evidence pulls, credential readers and ID-card readers all serve a few routes with the
standard library; this holds what they share (start/stop, answering, quiet request logs).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger(__name__)

_JSON = "application/json"


class Responder(BaseHTTPRequestHandler):
    """A request handler that answers in one call and logs requests at debug level."""

    def send(self, status: int, body: bytes, content_type: str) -> None:
        """Answer with ``body`` as ``content_type``."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, body: Mapping[str, object]) -> None:
        """Answer with ``body`` as JSON."""
        self.send(status, json.dumps(body).encode(), _JSON)

    def log_message(self, format: str, *args: object) -> None:
        """Request lines go to the debug log, not stderr."""
        log.debug("event=http_request server=%s line=%r", self.server.server_address, format % args)


class BackgroundHttpServer:
    """A threading HTTP server for ``handler`` on ``address``, serving on its own thread."""

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], name: str
    ) -> None:
        self.name = name
        self._httpd = ThreadingHTTPServer(address, handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        return int(self._httpd.server_address[1])

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=self.name)
        self._thread.daemon = True
        self._thread.start()
        log.info("event=http_server_started server=%s port=%d", self.name, self.port)

    def stop(self) -> None:
        """Stop serving (if started) and close the socket."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()
