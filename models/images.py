"""Reading images from files into the RGB arrays the face engine takes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from models.errors import FaceEngineError
from models.types import ImageRGB

Image.MAX_IMAGE_PIXELS = 64_000_000


def load_image(path: Path) -> ImageRGB:
    """The image at ``path`` as RGB ``uint8``, turned upright by its EXIF orientation."""
    try:
        with Image.open(path) as handle:
            upright = ImageOps.exif_transpose(handle)
            return np.asarray(upright.convert("RGB"), dtype=np.uint8)
    except FileNotFoundError as exc:
        raise FaceEngineError(f"cannot read image {path}: no such file") from exc
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise FaceEngineError(f"cannot read image {path}: {exc}") from exc
