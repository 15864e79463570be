"""Face quality measures used to weight and gate recognition votes.

All are cheap estimates from the five landmarks and the aligned chip: inter-eye distance in
source pixels (resolution), variance of the Laplacian of the chip (sharpness), and yaw and pitch
read from where the nose sits between the eyes and the mouth (pose).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.align import ARCFACE_112, similarity_transform, transform_points
from models.types import FloatArray, ImageRGB

_FRONTAL = ARCFACE_112.points()
_FRONTAL_NOSE_RATIO = float(
    (_FRONTAL[2, 1] - _FRONTAL[:2, 1].mean()) / (_FRONTAL[3:, 1].mean() - _FRONTAL[:2, 1].mean())
)


@dataclass(frozen=True)
class FaceQuality:
    """Quality of one detected face."""

    inter_eye_px: float
    sharpness: float
    """Variance of the Laplacian of the grey chip; below ~20 is blurred."""
    yaw_deg: float
    """Positive when the face turns towards the image's left."""
    pitch_deg: float
    """Positive when the face tilts up."""


def measure_quality(landmarks_xy: FloatArray, chip: ImageRGB) -> FaceQuality:
    """Quality of a face from its landmarks (source pixels) and its aligned chip."""
    inter_eye = float(np.linalg.norm(landmarks_xy[1] - landmarks_xy[0]))
    yaw, pitch = estimate_pose_deg(landmarks_xy)
    return FaceQuality(inter_eye, laplacian_variance(chip), yaw, pitch)


def estimate_pose_deg(landmarks_xy: FloatArray) -> tuple[float, float]:
    """Yaw and pitch in degrees, from the nose's offset in the face's own upright frame."""
    eyes_only = similarity_transform(landmarks_xy[:2], _FRONTAL[:2])
    upright = transform_points(eyes_only, landmarks_xy)
    eye_mid = upright[:2].mean(axis=0)
    half_eye_gap = float(np.linalg.norm(upright[1] - upright[0])) / 2
    mouth_drop = float(upright[3:, 1].mean() - eye_mid[1])
    if half_eye_gap <= 0 or mouth_drop <= 0:
        return 0.0, 0.0
    sideways = float(upright[2, 0] - eye_mid[0]) / half_eye_gap
    ratio = float(upright[2, 1] - eye_mid[1]) / mouth_drop
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, sideways))))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, 2 * (_FRONTAL_NOSE_RATIO - ratio)))))
    return yaw, pitch


def laplacian_variance(chip: ImageRGB) -> float:
    """Variance of the 4-neighbour Laplacian of the chip's grey levels."""
    grey = chip.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    lap = grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4 * grey[1:-1, 1:-1]
    return float(lap.var())
