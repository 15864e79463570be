"""Evidence pulled from an edge node on demand: where each node serves it and with which token.

A gate or outlet node serves ``GET /evidence/<id>`` with a bearer token. Central keeps no copy:
the dashboard asks, central fetches from the node and passes the file through. Which URL and
token belong to which device is configured here (a ``device_id → source`` map), not stored in
the registry.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

log = logging.getLogger(__name__)
EVIDENCE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
CONTENT_TYPES = frozenset({"image/jpeg", "video/x-msvideo"})


class EvidenceSource(BaseModel):
    """One node's evidence endpoint."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: HttpUrl = Field(description="e.g. http://10.0.3.21:8766 (the node's evidence server)")
    token_file: Path = Field(description="File holding the bearer token the node expects.")
    timeout_s: float = Field(default=5.0, gt=0, description="Give up on the node after this long.")


class EvidenceSources(BaseModel):
    """Evidence endpoints by device id; unknown keys in a source are refused."""

    model_config = ConfigDict(extra="forbid")

    devices: dict[str, EvidenceSource] = Field(default_factory=dict)


class EvidenceUnavailable(RuntimeError):
    """The node cannot be asked or did not give the file; ``status`` says how to answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class EvidenceFile:
    """A file fetched from a node."""

    content: bytes
    content_type: str


def fetch_evidence(sources: EvidenceSources, device_id: str, evidence_id: str) -> EvidenceFile:
    """The evidence file ``evidence_id`` of ``device_id``, fetched from its node now."""
    source = sources.devices.get(device_id)
    if source is None:
        raise EvidenceUnavailable(f"no evidence endpoint configured for {device_id}", 404)
    if not EVIDENCE_ID.match(evidence_id):
        raise EvidenceUnavailable("malformed evidence id", 422)
    try:
        token = source.token_file.read_text(encoding="utf-8").strip()
        reply = httpx.get(
            f"{str(source.base_url).rstrip('/')}/evidence/{evidence_id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=source.timeout_s,
        )
    except (OSError, httpx.HTTPError) as exc:
        log.warning("evidence_fetch_failed device=%s error=%s", device_id, exc)
        raise EvidenceUnavailable(f"node of {device_id} unreachable", 502) from exc
    if reply.status_code == 404:
        raise EvidenceUnavailable("evidence not found on the node (expired or never kept)", 404)
    content_type = reply.headers.get("Content-Type", "").split(";")[0]
    if reply.status_code != 200 or content_type not in CONTENT_TYPES:
        log.warning("evidence_refused device=%s status=%d", device_id, reply.status_code)
        raise EvidenceUnavailable(f"node of {device_id} answered {reply.status_code}", 502)
    return EvidenceFile(reply.content, content_type)
