"""Demo residents' enrolment photos: faces cut from the sample group photo of the model pack."""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from models.engine import FaceEngine
from models.images import load_image
from models.paths import default_model_dir, pack_dir
from models.types import ImageRGB
from models.zoo import FaceEngineConfig, open_engine

log = logging.getLogger(__name__)
# The gate demo video (scripts/bench/gate.py ORDER) walks faces 0, 5, 1, 2, 4, 3 of the photo
# (largest first) up to the camera: the residents are those at even positions, 5, 2, 3 strangers.
RESIDENT_FACES = {0: "张伟", 1: "王芳", 4: "李娜"}
MARGINS = (0.6, 0.4, 0.25, 0.1)


@dataclass(frozen=True)
class EnrolmentPhoto:
    """One resident's JPEG, cut from the group photo so that it shows exactly one face."""

    face_index: int
    name: str
    jpeg: bytes


def sample_photo() -> Path:
    """The group photo with six faces that the default pack ships."""
    return pack_dir(default_model_dir(), "anju-open") / "samples/t1.jpg"


def _crop(image: ImageRGB, xyxy: np.ndarray, margin: float) -> ImageRGB:
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    pad_x, pad_y = (x2 - x1) * margin, (y2 - y1) * margin
    top, bottom = int(max(0, y1 - pad_y)), int(min(image.shape[0], y2 + pad_y))
    left, right = int(max(0, x1 - pad_x)), int(min(image.shape[1], x2 + pad_x))
    return np.ascontiguousarray(image[top:bottom, left:right])


def _jpeg(image: ImageRGB) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def _single_face_crop(engine: FaceEngine, image: ImageRGB, xyxy: np.ndarray) -> ImageRGB:
    """The widest crop around ``xyxy`` in which the engine finds exactly one face."""
    for margin in MARGINS:
        crop = _crop(image, xyxy, margin)
        if len(engine.analyze(crop)) == 1:
            return crop
    raise ValueError(f"no crop around {xyxy.tolist()} shows exactly one face")


def enrolment_photos() -> list[EnrolmentPhoto]:
    """Log the face-engine summary line; one JPEG per demo resident."""
    config = FaceEngineConfig()
    engine = open_engine(config)
    image = load_image(sample_photo())
    started = time.perf_counter()
    faces = engine.analyze(image)
    log.info(
        "step=face_engine pack=%s faces=%d ms=%.0f threshold=%.3f photo=%s",
        config.pack,
        len(faces),
        (time.perf_counter() - started) * 1000,
        engine.threshold,
        sample_photo(),
    )
    return [
        EnrolmentPhoto(index, name, _jpeg(_single_face_crop(engine, image, faces[index].xyxy)))
        for index, name in RESIDENT_FACES.items()
    ]
