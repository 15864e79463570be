"""Per-parcel evidence: keyframes (label, peak inspection, X-ray) and a short clip.

Keyframes are the node's JPEG evidence (``edge.node.evidence``); clips are Motion-JPEG AVI
files in the same folder under the same kind of id, found, served and pruned alongside them.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from edge.node.evidence import EvidenceStore
from models.types import ImageRGB

_CLIP_FPS = 2.0


class ParcelEvidenceStore(EvidenceStore):
    """The node's evidence store, plus clips."""

    suffixes = (".jpg", ".avi")

    def save_clip(self, frames: list[ImageRGB]) -> str | None:
        """Store ``frames`` (same size) as a Motion-JPEG clip; its id, or None if it failed."""
        if not frames:
            return None
        height, width = frames[0].shape[:2]

        def write(partial: Path) -> None:
            writer = cv2.VideoWriter(
                str(partial), cv2.VideoWriter.fourcc(*"MJPG"), _CLIP_FPS, (width, height)
            )
            try:
                if not writer.isOpened():
                    raise OSError(f"cannot write {partial}")
                for frame in frames:
                    writer.write(frame[:, :, ::-1])
            finally:
                writer.release()

        return self._write_new(".avi", write, "clip")
