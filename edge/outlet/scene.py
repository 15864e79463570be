"""The desk camera's view reduced to what the checks need: a small grey image aligned against
camera shake, its brightness matched to the reference, and the foreground on the desk.

Shake: phase correlation of a never-occupied static strip against the reference strip gives the
frame's shift, undone before comparing. Brightness drift: the strip's mean sets a gain. The
empty-desk reference learns only while the desk is empty, so a parcel never becomes background.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar, cast

import cv2
import numpy as np
import numpy.typing as npt

from edge.outlet.config import Region

Grey = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]
_Array = TypeVar("_Array", bound=np.ndarray[Any, Any])


@dataclass(frozen=True)
class Box:
    """A rectangle in pixels, ``x0, y0`` inclusive, ``x1, y1`` exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    def crop(self, image: _Array) -> _Array:
        """The part of ``image`` inside the box."""
        return cast(_Array, image[self.y0 : self.y1, self.x0 : self.x1])

    def scaled(self, factor: float) -> Box:
        """The same box in an image ``factor`` times larger."""
        return Box(*(round(v * factor) for v in (self.x0, self.y0, self.x1, self.y1)))

    @property
    def area(self) -> int:
        """Pixels inside."""
        return max(0, self.x1 - self.x0) * max(0, self.y1 - self.y0)


def region_box(region: Region, width: int, height: int) -> Box:
    """The pixel box of a fractional region in a ``width`` x ``height`` image."""
    x0, y0, x1, y1 = region
    return Box(round(x0 * width), round(y0 * height), round(x1 * width), round(y1 * height))


def to_grey(image_rgb: npt.NDArray[np.uint8], width: int) -> Grey:
    """A blurred grey copy ``width`` pixels wide (noise suppressed)."""
    scale = width / image_rgb.shape[1]
    small = cv2.resize(
        image_rgb, (width, max(1, round(image_rgb.shape[0] * scale))), interpolation=cv2.INTER_AREA
    )
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    return np.asarray(cv2.GaussianBlur(grey, (5, 5), 0), dtype=np.uint8)


class SceneModel:
    """Aligns each frame to the reference and measures foreground inside a region."""

    def __init__(self, strip: Region, diff_threshold: int, learning_rate: float) -> None:
        self._strip = strip
        self._threshold = diff_threshold
        self._rate = learning_rate
        self._reference: npt.NDArray[np.float32] | None = None
        self.shift_px = (0.0, 0.0)

    @property
    def ready(self) -> bool:
        """Whether a reference exists yet."""
        return self._reference is not None

    def align(self, grey: Grey) -> Grey:
        """``grey`` with the shake undone and its brightness matched to the reference."""
        reference = self._reference if self._fits(grey) else None
        if reference is None:
            return grey
        strip = region_box(self._strip, grey.shape[1], grey.shape[0])
        ref_strip = strip.crop(reference)
        cur_strip = strip.crop(grey).astype(np.float64)
        (dx, dy), _ = cv2.phaseCorrelate(ref_strip.astype(np.float64), cur_strip)
        self.shift_px = (dx, dy)
        shifted = grey
        if abs(dx) > 0.5 or abs(dy) > 0.5:
            matrix = np.array([[1, 0, -dx], [0, 1, -dy]], dtype=np.float32)
            size = (grey.shape[1], grey.shape[0])
            warped = cv2.warpAffine(grey, matrix, size, borderMode=cv2.BORDER_REPLICATE)
            shifted = np.asarray(warped, dtype=np.uint8)
        gain = float(ref_strip.mean()) / max(1.0, float(cur_strip.mean()))
        return np.asarray(cv2.convertScaleAbs(shifted, alpha=gain), dtype=np.uint8)

    def foreground(self, aligned: Grey) -> Mask:
        """Pixels that differ from the empty-desk reference."""
        reference = self._reference if self._fits(aligned) else None
        if reference is None:
            return np.zeros(aligned.shape, dtype=bool)
        diff = cv2.absdiff(aligned, reference.astype(np.uint8))
        return np.asarray(diff > self._threshold)

    def _fits(self, grey: Grey) -> bool:
        """Whether a reference of ``grey``'s size exists; a resolution change forgets it."""
        if self._reference is not None and self._reference.shape != grey.shape:
            self._reference = None
        return self._reference is not None

    def learn(self, aligned: Grey) -> None:
        """Blend ``aligned`` into the reference (call only while the desk is empty)."""
        if self._reference is None:
            self._reference = aligned.astype(np.float32)
            return
        cv2.accumulateWeighted(aligned.astype(np.float32), self._reference, self._rate)


def changed(a: Grey, b: Grey, threshold: int) -> Mask:
    """Pixels whose grey level differs by more than ``threshold`` (same shape inputs)."""
    return np.asarray(cv2.absdiff(a, b) > threshold)


def largest_blob(mask: Mask, within: Box) -> Box | None:
    """The bounding box of the largest connected foreground blob inside ``within``."""
    raw = np.ascontiguousarray(within.crop(mask).astype(np.uint8))
    part = np.asarray(cv2.morphologyEx(raw, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(part)
    if count < 2:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h = (int(v) for v in stats[best, :4])
    return Box(within.x0 + x, within.y0 + y, within.x0 + x + w, within.y0 + y + h)
