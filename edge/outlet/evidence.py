"""Per-parcel evidence: keyframes (label, peak inspection, X-ray) and a short clip.

Reuses the gate's ``EvidenceStore`` (JPEG keyframes, retention, authenticated pull through the
gate's ``EvidenceServer``); clips are Motion-JPEG AVI files in the same folder under the same
kind of id, found and pruned alongside the keyframes.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

import cv2

from edge.contract.ids import new_event_id
from edge.gate.evidence import _EVIDENCE_ID, EvidenceStore
from models.types import ImageRGB

log = logging.getLogger(__name__)

_CLIP_FPS = 2.0


class ParcelEvidenceStore(EvidenceStore):
    """The gate's evidence store, plus clips."""

    def save_clip(self, frames: list[ImageRGB]) -> str | None:
        """Store ``frames`` (same size) as a Motion-JPEG clip; its id, or None if it failed."""
        if not self.config.enabled or not frames:
            return None
        clip_id = new_event_id().hex
        target = self.config.folder / f"{clip_id}.avi"
        partial = self.config.folder / f"{clip_id}.part.avi"  # the writer wants .avi
        height, width = frames[0].shape[:2]
        writer = cv2.VideoWriter(
            str(partial), cv2.VideoWriter.fourcc(*"MJPG"), _CLIP_FPS, (width, height)
        )
        try:
            if not writer.isOpened():
                raise OSError(f"cannot write {partial}")
            for frame in frames:
                writer.write(frame[:, :, ::-1])
            writer.release()
            partial.replace(target)
        except (OSError, cv2.error) as exc:
            writer.release()
            self.failures += 1
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            log.error("event=clip_write_failed folder=%s error=%r", self.config.folder, exc)
            return None
        return clip_id

    def path(self, evidence_id: str) -> Path | None:
        """The keyframe or clip of ``evidence_id``, if it exists."""
        found = super().path(evidence_id)
        if found is not None or not _EVIDENCE_ID.match(evidence_id):
            return found
        clip = self.config.folder / f"{evidence_id}.avi"
        return clip if clip.is_file() else None

    def prune(self, now_s: float | None = None) -> int:
        """Delete keyframes and clips older than the retention period; how many went."""
        removed = super().prune(now_s)
        if not self.config.enabled or not self.config.folder.is_dir():
            return removed
        horizon = (time.time() if now_s is None else now_s) - self.config.retention_days * 86400
        for item in self.config.folder.glob("*.avi"):
            with contextlib.suppress(OSError):
                if item.stat().st_mtime < horizon:
                    item.unlink()
                    removed += 1
        return removed
