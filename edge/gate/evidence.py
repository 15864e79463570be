"""Evidence snapshots: JPEGs kept on the node, listed by id in events, pruned after retention.

Images never leave the node in events. Central pulls one by id over HTTP with the node's bearer
token (``edge.gate.server``). A full disk or unwritable folder loses the snapshot, never the
decision: ``save`` returns None and counts the failure.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from pathlib import Path

import cv2
from pydantic import BaseModel, ConfigDict, Field

from edge.contract.ids import new_event_id
from models.types import ImageRGB

log = logging.getLogger(__name__)

_EVIDENCE_ID = re.compile(r"^[0-9a-f]{32}$")


class EvidenceServerConfig(BaseModel):
    """The node's small HTTP endpoint central pulls evidence from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Serve GET /evidence/<id> and /metrics.")
    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8766, ge=0, le=65535, description="Port; 0 picks a free one.")
    token_file: Path | None = Field(
        default=None, description="File holding the bearer token central presents; required."
    )


class EvidenceConfig(BaseModel):
    """Where snapshots go and how long they stay."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Keep a snapshot per decision.")
    folder: Path = Field(default=Path("var/evidence"), description="JPEG folder on the node.")
    retention_days: float = Field(default=30, gt=0, description="Older snapshots are deleted.")
    jpeg_quality: int = Field(default=85, ge=10, le=100)
    server: EvidenceServerConfig = Field(default_factory=EvidenceServerConfig)


class EvidenceStore:
    """Writes, finds and prunes snapshots in one folder."""

    def __init__(self, config: EvidenceConfig) -> None:
        self.config = config
        self.failures = 0
        if config.enabled:
            config.folder.mkdir(parents=True, exist_ok=True)

    def save(self, image_rgb: ImageRGB) -> str | None:
        """Store ``image_rgb`` as a JPEG; its id, or None when disabled or the write failed."""
        if not self.config.enabled:
            return None
        evidence_id = new_event_id().hex
        target = self.config.folder / f"{evidence_id}.jpg"
        partial = target.with_suffix(".part")
        try:
            ok, data = cv2.imencode(
                ".jpg", image_rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, self.config.jpeg_quality]
            )
            if not ok:
                raise OSError("JPEG encoding failed")
            with partial.open("wb") as handle:
                handle.write(data.tobytes())
                handle.flush()
                os.fsync(handle.fileno())
            partial.replace(target)
        except (OSError, cv2.error) as exc:
            self.failures += 1
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            log.error("event=evidence_write_failed folder=%s error=%r", self.config.folder, exc)
            return None
        return evidence_id

    def path(self, evidence_id: str) -> Path | None:
        """The file of ``evidence_id`` if it is a well-formed id that exists, else None."""
        if not _EVIDENCE_ID.match(evidence_id):
            return None
        candidate = self.config.folder / f"{evidence_id}.jpg"
        return candidate if candidate.is_file() else None

    def prune(self, now_s: float | None = None) -> int:
        """Delete snapshots older than the retention period; how many went."""
        if not self.config.enabled or not self.config.folder.is_dir():
            return 0
        horizon = (time.time() if now_s is None else now_s) - self.config.retention_days * 86400
        removed = 0
        for item in self.config.folder.iterdir():
            try:
                if item.suffix in (".jpg", ".part") and item.stat().st_mtime < horizon:
                    item.unlink()
                    removed += 1
            except OSError as exc:
                log.warning("event=evidence_prune_failed file=%s error=%r", item.name, exc)
        if removed:
            log.info("event=evidence_pruned count=%d", removed)
        return removed
