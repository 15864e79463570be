"""The face engine: detect → landmarks → align → quality → embed, for edge and central alike.

Templates are unit vectors. With several embedders (score-level fusion) a template is the
concatenation of each embedder's unit vector scaled by the square root of its weight, so the
dot product of two templates is the weighted sum of the per-embedder cosine similarities and a
1:N search stays one matrix product.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.embedders.onnx_embedder import OnnxEmbedder
from models.quality import FaceQuality, measure_quality
from models.types import Detections, Detector, FloatArray, ImageRGB


@dataclass(frozen=True)
class Face:
    """One face found in an image, with its template."""

    xyxy: FloatArray
    landmarks_xy: FloatArray
    detection_score: float
    quality: FaceQuality
    template: FloatArray

    @property
    def area_px(self) -> float:
        """Box area in square pixels."""
        return float(max(0.0, self.xyxy[2] - self.xyxy[0]) * max(0.0, self.xyxy[3] - self.xyxy[1]))


@dataclass(frozen=True)
class WeightedEmbedder:
    """An embedder, its weight in the fused similarity and its own calibrated threshold."""

    embedder: OnnxEmbedder
    weight: float
    threshold: float


class FaceEngine:
    """Finds faces and turns them into comparable templates."""

    def __init__(
        self, detector: Detector, embedders: list[WeightedEmbedder], threshold: float
    ) -> None:
        if not embedders:
            raise ValueError("a face engine needs at least one embedder")
        self.detector = detector
        self.embedders = embedders
        self.threshold = threshold
        """Similarity at or above which two templates are the same person."""

    @property
    def dimension(self) -> int:
        """Length of a template."""
        return sum(item.embedder.spec.dimension for item in self.embedders)

    def detect(self, image: ImageRGB) -> Detections:
        """Faces in ``image``, without templates."""
        return self.detector.detect(image)

    def analyze(self, image: ImageRGB, detections: Detections | None = None) -> list[Face]:
        """Every face in ``image`` (or those given) with quality and template, largest first."""
        found = self.detect(image) if detections is None else detections
        return self.analyze_batch([image], [found])[0]

    def analyze_batch(
        self, images: list[ImageRGB], detections: list[Detections] | None = None
    ) -> list[list[Face]]:
        """``analyze`` for several images, each embedder running once over all their faces."""
        found = [self.detect(image) for image in images] if detections is None else detections
        found = [d.take(np.argsort(-d.areas_px, kind="stable")) for d in found]
        owners = [(i, row) for i, d in enumerate(found) for row in range(len(d))]
        if not owners:
            return [[] for _ in images]
        parts: list[FloatArray] = []
        first_chips: list[ImageRGB] = []
        for item in self.embedders:
            chips = [item.embedder.align(images[i], found[i].landmarks_xy[r]) for i, r in owners]
            first_chips = first_chips or chips
            parts.append(item.embedder.embed(chips) * math.sqrt(item.weight))
        templates = np.concatenate(parts, axis=1)
        faces: list[list[Face]] = [[] for _ in images]
        for n, (i, r) in enumerate(owners):
            points = found[i].landmarks_xy[r]
            faces[i].append(
                Face(
                    xyxy=found[i].xyxy[r],
                    landmarks_xy=points,
                    detection_score=float(found[i].scores[r]),
                    quality=measure_quality(points, first_chips[n]),
                    template=templates[n],
                )
            )
        return faces

    def similarity(self, a: FloatArray, b: FloatArray) -> float:
        """Fused similarity of two templates, in -1..1."""
        return float(np.dot(a, b))

    def component_similarities(self, a: FloatArray, b: FloatArray) -> dict[str, float]:
        """Each embedder's own cosine similarity of two templates."""
        result, start = {}, 0
        for item in self.embedders:
            end = start + item.embedder.spec.dimension
            result[item.embedder.spec.name] = (
                float(np.dot(a[start:end], b[start:end])) / item.weight
            )
            start = end
        return result

    def is_same(self, similarity: float) -> bool:
        """Whether ``similarity`` is at or above the engine's threshold."""
        return similarity >= self.threshold
