"""Typed values passed between the face-engine stages.

Images are RGB ``uint8`` arrays of shape ``(height, width, 3)``. Coordinates are pixels in the
image they came from. The five landmarks are always in image order: the eye on the image's left,
the eye on the image's right, the nose tip, the mouth corner on the left, the mouth corner on the
right (the order of the ArcFace alignment template).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
ImageRGB = npt.NDArray[np.uint8]

LANDMARK_COUNT = 5


@dataclass(frozen=True)
class Detections:
    """Faces found in one image, as parallel arrays sorted by descending score."""

    xyxy: FloatArray
    """``(n, 4)`` boxes as x1, y1, x2, y2 in pixels."""
    landmarks_xy: FloatArray
    """``(n, 5, 2)`` landmarks in pixels, in the order given in the module docstring."""
    scores: FloatArray
    """``(n,)`` detector confidences in 0..1."""

    def __post_init__(self) -> None:
        n = len(self.scores)
        if self.xyxy.shape != (n, 4):
            raise ValueError(f"xyxy must be ({n}, 4), got {self.xyxy.shape}")
        if self.landmarks_xy.shape != (n, LANDMARK_COUNT, 2):
            raise ValueError(f"landmarks_xy must be ({n}, 5, 2), got {self.landmarks_xy.shape}")

    def __len__(self) -> int:
        return len(self.scores)

    @classmethod
    def empty(cls) -> Detections:
        """No faces."""
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            landmarks_xy=np.zeros((0, LANDMARK_COUNT, 2), np.float32),
            scores=np.zeros((0,), np.float32),
        )

    @property
    def areas_px(self) -> FloatArray:
        """Box areas in square pixels."""
        wh = np.clip(self.xyxy[:, 2:] - self.xyxy[:, :2], 0, None)
        areas: FloatArray = (wh[:, 0] * wh[:, 1]).astype(np.float32)
        return areas

    def take(self, index: npt.NDArray[np.intp]) -> Detections:
        """A new ``Detections`` holding the rows at ``index``, in that order."""
        return Detections(self.xyxy[index], self.landmarks_xy[index], self.scores[index])


class Detector(Protocol):
    """Anything that finds faces with five landmarks."""

    def detect(self, image: ImageRGB) -> Detections:
        """Faces in an RGB image, by descending score."""
        ...
