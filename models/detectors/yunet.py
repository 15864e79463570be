"""YuNet face detector (OpenCV Zoo, 2023mar) decoded with numpy, without OpenCV.

The network takes a BGR ``float32`` NCHW tensor with values 0..255 and, for each stride 8, 16
and 32, returns per anchor-grid cell (row-major) a class and an objectness probability, a box
``(dx, dy, log w, log h)`` and five landmarks ``(kx, ky)``, all in units of the stride.
"""

from __future__ import annotations

import math

import numpy as np
import onnxruntime as ort
from pydantic import BaseModel, ConfigDict, Field

from models.detectors.nms import (
    check_image,
    resize_rgb,
    select_faces,
    to_image_pixels,
)
from models.errors import ModelError
from models.types import LANDMARK_COUNT, Detections, FloatArray, ImageRGB

STRIDES = (8, 16, 32)
_HEADS = ("cls", "obj", "bbox", "kps")


class YuNetConfig(BaseModel):
    """Tuning of ``YuNetDetector``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    score_threshold: float = Field(
        default=0.6, ge=0, le=1, description="Minimum score sqrt(class * objectness)."
    )
    nms_iou: float = Field(default=0.3, gt=0, le=1, description="IoU above which boxes merge.")
    min_face_px: float = Field(default=20, ge=0, description="Minimum box side in pixels.")
    max_side_px: int = Field(
        default=640, ge=32, description="Longer image side is shrunk to at most this first."
    )


class YuNetDetector:
    """Finds faces and their five landmarks with a YuNet ONNX session."""

    def __init__(self, session: ort.InferenceSession, config: YuNetConfig | None = None) -> None:
        self._session = session
        self._config = config or YuNetConfig()
        inputs = session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ModelError("YuNet model must have one NCHW input")
        self._input_name: str = inputs[0].name
        height, width = inputs[0].shape[2:]
        fixed = isinstance(height, int) and isinstance(width, int)
        self._fixed_hw: tuple[int, int] | None = (height, width) if fixed else None
        names = {output.name for output in session.get_outputs()}
        self._output_names = [f"{head}_{stride}" for stride in STRIDES for head in _HEADS]
        missing = sorted(set(self._output_names) - names)
        if missing:
            raise ModelError(f"YuNet model lacks outputs {', '.join(missing)}")

    @property
    def config(self) -> YuNetConfig:
        """The detector's settings."""
        return self._config

    def detect(self, image: ImageRGB) -> Detections:
        """Faces in an RGB ``uint8`` image, sorted by descending score."""
        image = check_image(image)
        height, width = image.shape[:2]
        canvas_hw, resized_hw = self._plan(height, width)
        resized = resize_rgb(image, resized_hw[1], resized_hw[0])
        canvas = np.zeros((1, 3, *canvas_hw), np.float32)
        canvas[0, :, : resized_hw[0], : resized_hw[1]] = resized[:, :, ::-1].transpose(2, 0, 1)
        outputs = self._session.run(self._output_names, {self._input_name: canvas})
        candidates = self._decode([np.asarray(out) for out in outputs], canvas_hw)
        factors = np.array([width / resized_hw[1], height / resized_hw[0]], np.float32)
        return select_faces(
            to_image_pixels(candidates, factors, width, height),
            score_threshold=self._config.score_threshold,
            min_face_px=self._config.min_face_px,
            nms_threshold=self._config.nms_iou,
        )

    def _plan(self, height: int, width: int) -> tuple[tuple[int, int], tuple[int, int]]:
        """Network input size and the size the image is resized to, both as (h, w)."""
        scale = min(1.0, self._config.max_side_px / max(height, width))
        if self._fixed_hw is not None:
            scale = min(scale, self._fixed_hw[0] / height, self._fixed_hw[1] / width)
        resized = (max(1, math.floor(height * scale)), max(1, math.floor(width * scale)))
        if self._fixed_hw is not None:
            return self._fixed_hw, resized
        align = STRIDES[-1]
        return (-(-resized[0] // align) * align, -(-resized[1] // align) * align), resized

    def _decode(self, outputs: list[FloatArray], canvas_hw: tuple[int, int]) -> Detections:
        """Candidates above the score threshold, in network-input pixels."""
        boxes, landmarks, scores = [], [], []
        for level, stride in enumerate(STRIDES):
            cls, obj, bbox, kps = (out[0] for out in outputs[4 * level : 4 * level + 4])
            cols = canvas_hw[1] // stride
            if len(cls) != (canvas_hw[0] // stride) * cols:
                raise ModelError(f"YuNet stride {stride} output has {len(cls)} cells")
            score = np.sqrt(np.clip(cls[:, 0], 0, 1) * np.clip(obj[:, 0], 0, 1))
            cells = np.flatnonzero(score >= self._config.score_threshold)
            grid = np.stack([cells % cols, cells // cols], axis=1).astype(np.float32)
            centre = (grid + bbox[cells, :2]) * stride
            half = np.exp(bbox[cells, 2:4]) * stride / 2
            boxes.append(np.concatenate([centre - half, centre + half], axis=1))
            points = kps[cells].reshape(-1, LANDMARK_COUNT, 2)
            landmarks.append((grid[:, None, :] + points) * stride)
            scores.append(score[cells])
        return Detections(
            xyxy=np.concatenate(boxes).astype(np.float32),
            landmarks_xy=np.concatenate(landmarks).astype(np.float32),
            scores=np.concatenate(scores).astype(np.float32),
        )
