"""Box geometry, non-maximum suppression and input checks shared by the face detectors."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from PIL import Image

from models.errors import FaceEngineError
from models.types import Detections, FloatArray, ImageRGB

OverlapMode = Literal["union", "min"]
IndexArray = npt.NDArray[np.intp]


def check_image(image: Any) -> ImageRGB:
    """Return ``image`` if it is an RGB ``uint8`` array of shape ``(h, w, 3)``, else raise."""
    if not isinstance(image, np.ndarray):
        raise FaceEngineError(f"image must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise FaceEngineError(f"image must have dtype uint8, got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise FaceEngineError(f"image must have shape (height, width, 3), got {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise FaceEngineError(f"image is empty: shape {image.shape}")
    return image


def resize_rgb(image: ImageRGB, width: int, height: int) -> ImageRGB:
    """``image`` resized to ``width`` x ``height`` (bilinear, antialiased when shrinking)."""
    if image.shape[1] == width and image.shape[0] == height:
        return image
    resized = Image.fromarray(image).resize(
        (width, height), Image.Resampling.BILINEAR, reducing_gap=3.0
    )
    return np.asarray(resized, dtype=np.uint8)


def box_sides(xyxy: FloatArray) -> FloatArray:
    """``(n, 2)`` widths and heights of ``(n, 4)`` boxes, never negative."""
    sides: FloatArray = np.maximum(xyxy[:, 2:4] - xyxy[:, 0:2], 0).astype(np.float32)
    return sides


def _overlap(
    box: FloatArray, area: float, others: FloatArray, other_areas: FloatArray, mode: OverlapMode
) -> FloatArray:
    """Overlap of one box with each of ``others`` whose areas are known."""
    width = np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0])
    height = np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1])
    inter = np.maximum(width, 0) * np.maximum(height, 0)
    union = area + other_areas - inter
    denominator = np.minimum(area, other_areas) if mode == "min" else union
    result: FloatArray = (inter / np.maximum(denominator, 1e-9)).astype(np.float32)
    return result


def overlaps(box: FloatArray, others: FloatArray, mode: OverlapMode = "union") -> FloatArray:
    """Overlap of one box with each of ``others``: IoU, or intersection over the smaller area."""
    area = float(np.prod(box_sides(box[None])))
    return _overlap(box, area, others, np.prod(box_sides(others), axis=1), mode)


def iou_matrix(a: FloatArray, b: FloatArray) -> FloatArray:
    """``(len(a), len(b))`` intersection over union of two box sets."""
    result = np.zeros((len(a), len(b)), np.float32)
    for row, box in enumerate(a):
        result[row] = overlaps(box, b)
    return result


def nms(
    xyxy: FloatArray, scores: FloatArray, threshold: float, mode: OverlapMode = "union"
) -> IndexArray:
    """Indices of the boxes kept by greedy non-maximum suppression, by descending score.

    A box is dropped when its overlap (see ``overlaps``) with a better kept box exceeds
    ``threshold``.
    """
    areas = np.prod(box_sides(xyxy), axis=1)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        overlap = _overlap(xyxy[best], float(areas[best]), xyxy[rest], areas[rest], mode)
        order = rest[overlap <= threshold]
    return np.asarray(keep, dtype=np.intp)


def select_faces(
    candidates: Detections,
    *,
    score_threshold: float,
    min_face_px: float,
    nms_threshold: float,
    mode: OverlapMode = "union",
) -> Detections:
    """Drop weak and small candidates, suppress overlaps, and sort by descending score."""
    sides = box_sides(candidates.xyxy)
    good = (candidates.scores >= score_threshold) & (sides.min(axis=1) >= min_face_px)
    kept = candidates.take(np.flatnonzero(good))
    if len(kept) == 0:
        return Detections.empty()
    return kept.take(nms(kept.xyxy, kept.scores, nms_threshold, mode))


def clip_boxes(xyxy: FloatArray, width: int, height: int) -> FloatArray:
    """``xyxy`` clipped to the image rectangle."""
    limits = np.array([width, height, width, height], np.float32)
    return np.clip(xyxy, 0, limits).astype(np.float32)


def to_image_pixels(
    candidates: Detections, factors_xy: FloatArray, width: int, height: int
) -> Detections:
    """Candidates found on a resized canvas, scaled by ``factors_xy`` back onto the image."""
    return Detections(
        xyxy=clip_boxes(candidates.xyxy * np.tile(factors_xy, 2), width, height),
        landmarks_xy=(candidates.landmarks_xy * factors_xy).astype(np.float32),
        scores=candidates.scores,
    )
