"""Deterministic 150x150 RGB chips for checking converted embedders against their references.

Photo chips are fixed pixel boxes of insightface's group photo ``t1.jpg`` resized with Pillow's
bilinear filter; synthetic chips come from numpy (seed 0). Only numpy and Pillow are needed, so
the reference scripts that run in other virtual environments can import this module too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from models.errors import ModelError

CHIP_SIZE = 150
SYNTHETIC_SEED = 0
RESIZE_METHOD = "PIL.Image.Resampling.BILINEAR"

Chip = npt.NDArray[np.uint8]

# (name, (left, top, right, bottom)) in t1.jpg pixels (1280x886); the last box holds no face.
PHOTO_BOXES: tuple[tuple[str, tuple[int, int, int, int]], ...] = (
    ("t1_face_0", (40, 250, 190, 400)),
    ("t1_face_1", (265, 110, 405, 250)),
    ("t1_face_2", (450, 240, 610, 400)),
    ("t1_face_3", (735, 295, 885, 445)),
    ("t1_face_4", (895, 30, 1065, 200)),
    ("t1_face_5", (1110, 255, 1260, 405)),
    ("t1_table", (500, 640, 700, 840)),
)


def make_photo_chips(image_path: Path) -> list[tuple[str, Chip]]:
    """Crop ``PHOTO_BOXES`` out of ``t1.jpg`` and resize each to 150x150 (bilinear)."""
    try:
        with Image.open(image_path) as image:
            rgb = image.convert("RGB")
    except OSError as exc:
        raise ModelError(f"cannot read parity image {image_path}: {exc}") from exc
    chips = []
    for name, box in PHOTO_BOXES:
        crop = rgb.crop(box).resize((CHIP_SIZE, CHIP_SIZE), Image.Resampling.BILINEAR)
        chips.append((name, np.asarray(crop, dtype=np.uint8).copy()))
    return chips


def make_synthetic_chips() -> list[tuple[str, Chip]]:
    """A colour gradient and uniform noise (numpy ``default_rng(SYNTHETIC_SEED)``)."""
    ramp = np.linspace(0.0, 255.0, CHIP_SIZE)
    cols, rows = np.meshgrid(ramp, ramp)
    gradient = np.stack([cols, rows, (cols + rows) / 2.0], axis=-1).round().astype(np.uint8)
    rng = np.random.default_rng(SYNTHETIC_SEED)
    noise = rng.integers(0, 256, size=(CHIP_SIZE, CHIP_SIZE, 3), dtype=np.uint8)
    return [("synthetic_gradient", gradient), ("synthetic_noise", noise)]


def make_parity_chips(image_path: Path) -> list[tuple[str, Chip]]:
    """All parity chips, photo chips first, as ``(name, HxWx3 uint8 RGB)`` pairs."""
    return make_photo_chips(image_path) + make_synthetic_chips()


def chip_sha256(chip: Chip) -> str:
    """SHA-256 of a chip's raw bytes, to detect decoder or resampler drift."""
    return hashlib.sha256(np.ascontiguousarray(chip, dtype=np.uint8).tobytes()).hexdigest()


def chips_to_nchw(chips: list[Chip]) -> npt.NDArray[np.float32]:
    """Stack HxWx3 chips into a float32 ``[N, 3, H, W]`` batch of 0..255 values."""
    return np.stack(chips).astype(np.float32).transpose(0, 3, 1, 2).copy()
