"""Turn uploaded photos into one template each, refusing photos without exactly one face."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from central.enrol.errors import EnrolmentRefused
from models.engine import FaceEngine

MAX_PHOTO_PIXELS = 40_000_000


@dataclass(frozen=True)
class Photo:
    """One uploaded photo."""

    name: str
    data: bytes


def decode_photo(photo: Photo) -> npt.NDArray[np.uint8]:
    """The photo as upright RGB pixels; ``EnrolmentRefused`` if it is not a readable image."""
    try:
        with Image.open(io.BytesIO(photo.data)) as handle:
            if handle.width * handle.height > MAX_PHOTO_PIXELS:
                raise EnrolmentRefused(f"photo {photo.name!r} is larger than 40 megapixels")
            upright = ImageOps.exif_transpose(handle)
            return np.asarray(upright.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise EnrolmentRefused(f"photo {photo.name!r} is not a readable image") from exc


def photo_templates(engine: FaceEngine, photos: list[Photo]) -> list[npt.NDArray[np.float32]]:
    """One template per photo; refused unless every photo shows exactly one face."""
    if not photos:
        raise EnrolmentRefused("at least one photo is required")
    templates = []
    for photo in photos:
        faces = engine.analyze(decode_photo(photo))
        if len(faces) != 1:
            raise EnrolmentRefused(
                f"photo {photo.name!r} must show exactly one face; found {len(faces)}"
            )
        templates.append(np.asarray(faces[0].template, dtype=np.float32))
    return templates
