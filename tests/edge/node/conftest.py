"""Fixtures for the shared node pieces: an evidence folder with a snapshot and a clip."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.node.evidence import EvidenceConfig
from edge.outlet.evidence import ParcelEvidenceStore
from models.types import ImageRGB

TOKEN = "n" * 32


def frames(count: int, height_px: int = 48, width_px: int = 64) -> list[ImageRGB]:
    """``count`` plain frames of different greys."""
    return [np.full((height_px, width_px, 3), (20 + 40 * i) % 256, np.uint8) for i in range(count)]


@pytest.fixture
def store(tmp_path: Path) -> ParcelEvidenceStore:
    """An evidence store that keeps snapshots and clips, retained one day."""
    return ParcelEvidenceStore(EvidenceConfig(folder=tmp_path / "evidence", retention_days=1))


@pytest.fixture
def video_file(tmp_path: Path) -> Path:
    """A short Motion-JPEG file of 12 frames for a camera to read."""
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, (64, 48))
    for frame in frames(12):
        writer.write(frame)
    writer.release()
    return path
