"""Evidence files: kept on the node, listed by id in events, pruned after retention.

Files never leave the node in events. Central pulls one by id over HTTP with the node's bearer
token (``edge.node.server``). A full disk or unwritable folder loses the file, never the
decision: a save returns None and counts the failure.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import cv2
from pydantic import BaseModel, ConfigDict, Field

from edge.contract.ids import new_event_id
from models.types import ImageRGB

log = logging.getLogger(__name__)

EVIDENCE_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
"""An evidence id: 32 lower-case hex digits (a new event id's hex), also the file's stem."""

_PARTIAL = ".part"
_DAY_S = 86400


def is_evidence_id(text: str) -> bool:
    """Whether ``text`` is a well-formed evidence id (so it is safe as a file name)."""
    return EVIDENCE_ID_PATTERN.fullmatch(text) is not None


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
    """Where evidence goes and how long it stays."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Keep evidence (snapshots, clips).")
    folder: Path = Field(default=Path("var/evidence"), description="Evidence folder on the node.")
    retention_days: float = Field(default=30, gt=0, description="Older evidence is deleted.")
    jpeg_quality: int = Field(default=85, ge=10, le=100)
    server: EvidenceServerConfig = Field(default_factory=EvidenceServerConfig)


class EvidenceStore:
    """Writes, finds and prunes evidence files (JPEG snapshots by default) in one folder."""

    suffixes: tuple[str, ...] = (".jpg",)
    """The kinds of file this store keeps and serves, by ending."""

    def __init__(self, config: EvidenceConfig) -> None:
        self.config = config
        self.failures = 0
        if config.enabled:
            config.folder.mkdir(parents=True, exist_ok=True)

    def save(self, image_rgb: ImageRGB) -> str | None:
        """Store ``image_rgb`` as a JPEG; its id, or None when disabled or the write failed."""
        quality = [cv2.IMWRITE_JPEG_QUALITY, self.config.jpeg_quality]

        def write(partial: Path) -> None:
            ok, data = cv2.imencode(".jpg", image_rgb[:, :, ::-1], quality)
            if not ok:
                raise OSError("JPEG encoding failed")
            with partial.open("wb") as handle:
                handle.write(data.tobytes())
                handle.flush()
                os.fsync(handle.fileno())

        return self._write_new(".jpg", write, "evidence")

    def path(self, evidence_id: str) -> Path | None:
        """The file of ``evidence_id`` if it is a well-formed id that exists, else None."""
        if not is_evidence_id(evidence_id):
            return None
        for suffix in self.suffixes:
            candidate = self.config.folder / f"{evidence_id}{suffix}"
            if candidate.is_file():
                return candidate
        return None

    def prune(self, now_s: float | None = None) -> int:
        """Delete evidence (and left-over partial files) older than retention; how many went."""
        if not self.config.enabled or not self.config.folder.is_dir():
            return 0
        horizon = (time.time() if now_s is None else now_s) - self.config.retention_days * _DAY_S
        removed = 0
        for item in self.config.folder.iterdir():
            try:
                if item.suffix in (*self.suffixes, _PARTIAL) and item.stat().st_mtime < horizon:
                    item.unlink()
                    removed += 1
            except OSError as exc:
                log.warning("event=evidence_prune_failed file=%s error=%r", item.name, exc)
        if removed:
            log.info("event=evidence_pruned count=%d", removed)
        return removed

    def _write_new(self, suffix: str, write: Callable[[Path], None], what: str) -> str | None:
        """Give ``write`` a partial file, then publish it under a new id ending in ``suffix``.

        The partial file ends in ``.part`` + ``suffix`` (writers may go by the ending); the id,
        or None (counted, logged, partial file removed) when disabled or the write failed.
        """
        if not self.config.enabled:
            return None
        evidence_id = new_event_id().hex
        target = self.config.folder / f"{evidence_id}{suffix}"
        partial = self.config.folder / f"{evidence_id}{_PARTIAL}{suffix}"
        try:
            write(partial)
            partial.replace(target)
        except (OSError, cv2.error) as exc:
            self.failures += 1
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            log.error("event=%s_write_failed folder=%s error=%r", what, self.config.folder, exc)
            return None
        return evidence_id
