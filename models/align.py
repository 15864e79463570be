"""Five-point similarity alignment of a face to the chip an embedder expects.

A template gives, for a square chip of ``size_px``, where the five landmarks (in the order of
``models.types``) should land. The similarity transform (rotation, uniform scale, translation)
that best maps the detected landmarks onto the template in the least-squares sense is found in
closed form (Umeyama, 1991) and the chip is sampled bilinearly with Pillow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from models.types import FloatArray, ImageRGB


@dataclass(frozen=True)
class AlignmentTemplate:
    """Target landmark positions in a square chip."""

    name: str
    size_px: int
    landmarks_xy: tuple[tuple[float, float], ...]

    def points(self) -> FloatArray:
        """The template as a ``(5, 2)`` array."""
        return np.asarray(self.landmarks_xy, dtype=np.float32)


ARCFACE_112 = AlignmentTemplate(
    name="arcface-112",
    size_px=112,
    # The ArcFace alignment template used by SFace and InsightFace's recognisers.
    landmarks_xy=(
        (38.2946, 51.6963),
        (73.5318, 51.5014),
        (56.0252, 71.7366),
        (41.5493, 92.3655),
        (70.7299, 92.2041),
    ),
)

DLIB_150 = AlignmentTemplate(
    name="dlib-150",
    size_px=150,
    # Where our five landmarks fall on dlib's own 150 px chips (padding 0.25), measured by
    # scripts/calibrate/dlib_template.py: dlib cut 63 chips from 27 photos, YuNet and MTCNN
    # found the landmarks on them, and the averages were made left-right symmetric.
    landmarks_xy=(
        (46.4, 46.2),
        (103.6, 46.2),
        (75.0, 78.2),
        (49.4, 102.3),
        (100.6, 102.3),
    ),
)


def similarity_transform(src_xy: FloatArray, dst_xy: FloatArray) -> FloatArray:
    """The 2x3 matrix of the similarity that maps ``src_xy`` onto ``dst_xy`` best."""
    src = src_xy.astype(np.float64)
    dst = dst_xy.astype(np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1.0
    rotation = u @ sign @ vt
    variance = (src_c**2).sum() / len(src)
    scale = float(np.trace(np.diag(singular) @ sign) / variance) if variance > 0 else 1.0
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - matrix[:, :2] @ src_mean
    return matrix.astype(np.float32)


def align_face(image: ImageRGB, landmarks_xy: FloatArray, template: AlignmentTemplate) -> ImageRGB:
    """The ``template.size_px`` square RGB chip of the face with these landmarks."""
    forward = np.vstack([similarity_transform(landmarks_xy, template.points()), [0, 0, 1]])
    inverse = np.linalg.inv(forward.astype(np.float64))
    size = (template.size_px, template.size_px)
    chip = Image.fromarray(image).transform(
        size,
        Image.Transform.AFFINE,
        data=tuple(inverse[:2].ravel()),
        resample=Image.Resampling.BILINEAR,
    )
    return np.asarray(chip, dtype=np.uint8)


def transform_points(matrix: FloatArray, points_xy: FloatArray) -> FloatArray:
    """``points_xy`` mapped by the 2x3 affine ``matrix``."""
    return (points_xy @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)
