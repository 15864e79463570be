"""The node's evidence endpoint: evidence pulled by central, and metrics.

``GET /evidence/<id>`` returns the file with the content type of its kind (JPEG snapshot,
AVI clip); ``GET /metrics`` returns Prometheus text under the node's prefix. Both need
``Authorization: Bearer <token>`` (compared in constant time); anything else is 401 or 404.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from edge.node.evidence import EvidenceServerConfig, EvidenceStore
from edge.node.http import BackgroundHttpServer, Responder

MetricsSource = Callable[[], dict[str, float]]

_MIN_TOKEN_CHARS = 16
_OCTETS = "application/octet-stream"
_CONTENT_TYPES = {".jpg": "image/jpeg", ".avi": "video/x-msvideo"}
_TEXT = "text/plain"
_PROMETHEUS = "text/plain; version=0.0.4"


class EvidenceServer(BackgroundHttpServer):
    """Serves evidence and metrics (names under ``metrics_prefix``) on its own thread."""

    def __init__(
        self,
        store: EvidenceStore,
        token: str,
        metrics: MetricsSource,
        address: tuple[str, int],
        metrics_prefix: str = "anju_gate_",
    ) -> None:
        if len(token) < _MIN_TOKEN_CHARS:
            raise ValueError(f"the evidence token must be at least {_MIN_TOKEN_CHARS} characters")
        handler = _handler(store, token.encode(), lambda: render_metrics(metrics(), metrics_prefix))
        super().__init__(address, handler, "evidence-http")


def open_evidence_server(
    settings: EvidenceServerConfig,
    store: EvidenceStore,
    metrics: MetricsSource,
    metrics_prefix: str,
) -> EvidenceServer | None:
    """The configured evidence server (not started), or None when disabled.

    ``ValueError`` when enabled without a token file; ``OSError`` when it cannot be read.
    """
    if not settings.enabled:
        return None
    if settings.token_file is None:
        raise ValueError("evidence.server.token_file is required when the server is enabled")
    token = settings.token_file.read_text(encoding="utf-8").strip()
    return EvidenceServer(store, token, metrics, (settings.host, settings.port), metrics_prefix)


def render_metrics(values: dict[str, float], prefix: str) -> str:
    """Prometheus text exposition of ``values`` (names may carry ``{labels}``) under ``prefix``."""
    return "".join(f"{prefix}{name} {value:g}\n" for name, value in sorted(values.items()))


def content_type(path: Path) -> str:
    """The content type of an evidence file, by its ending (octet-stream if unknown)."""
    return _CONTENT_TYPES.get(path.suffix.lower(), _OCTETS)


def _handler(
    store: EvidenceStore, token: bytes, metrics_text: Callable[[], str]
) -> type[BaseHTTPRequestHandler]:
    expected = b"Bearer " + token

    class Handler(Responder):
        def do_GET(self) -> None:
            presented = self.headers.get("Authorization", "").encode("latin-1", "replace")
            if not hmac.compare_digest(presented, expected):
                self.send(401, b"unauthorized\n", _TEXT)
                return
            if self.path == "/metrics":
                self.send(200, metrics_text().encode(), _PROMETHEUS)
                return
            found = None
            if self.path.startswith("/evidence/"):
                found = store.path(self.path.removeprefix("/evidence/"))
            try:
                body = found.read_bytes() if found is not None else None
            except OSError:
                body = None
            if found is None or body is None:
                self.send(404, b"not found\n", _TEXT)
                return
            self.send(200, body, content_type(found))

    return Handler
