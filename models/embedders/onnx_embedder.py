"""One wrapper for every ONNX face embedder: align, normalise, run, L2-normalise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

from models.align import AlignmentTemplate, align_face
from models.errors import ModelError
from models.types import FloatArray, ImageRGB


@dataclass(frozen=True)
class EmbedderSpec:
    """How an embedder wants its input."""

    name: str
    template: AlignmentTemplate
    dimension: int
    pixel_mean: float = 0.0
    pixel_scale: float = 1.0
    """Input = (RGB pixel - pixel_mean) * pixel_scale, NCHW float32."""


class OnnxEmbedder:
    """Runs an embedding network on aligned chips; templates are unit vectors."""

    def __init__(self, session: ort.InferenceSession, spec: EmbedderSpec) -> None:
        self.spec = spec
        self._session = session
        inputs = session.get_inputs()
        side = spec.template.size_px
        if len(inputs) != 1 or list(inputs[0].shape[1:]) != [3, side, side]:
            raise ModelError(
                f"{spec.name}: expected one input of shape [N, 3, {side}, {side}], "
                f"got {[(i.name, i.shape) for i in inputs]}"
            )
        self._input_name = inputs[0].name
        self._fixed_batch = inputs[0].shape[0] == 1

    def align(self, image: ImageRGB, landmarks_xy: FloatArray) -> ImageRGB:
        """The chip this embedder expects for the face with these landmarks."""
        return align_face(image, landmarks_xy, self.spec.template)

    def embed(self, chips: list[ImageRGB]) -> FloatArray:
        """``(n, dimension)`` unit-length templates of ``n`` aligned chips."""
        if not chips:
            return np.zeros((0, self.spec.dimension), np.float32)
        batch = np.stack(chips).astype(np.float32).transpose(0, 3, 1, 2)
        batch = (batch - self.spec.pixel_mean) * self.spec.pixel_scale
        if self._fixed_batch:
            rows = [self._run(batch[i : i + 1]) for i in range(len(batch))]
            vectors = np.concatenate(rows)
        else:
            vectors = self._run(batch)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit: FloatArray = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def _run(self, batch: FloatArray) -> FloatArray:
        output = self._session.run(None, {self._input_name: batch})[0]
        return np.asarray(output, dtype=np.float32).reshape(len(batch), -1)
