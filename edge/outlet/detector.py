"""Plug-in slot for a prohibited-item detector on X-ray images (no model ships with Anju).

``load_detector(config)`` opens a YOLO-style ONNX model by path: one input (N, 3, S, S) RGB in
[0, 1], one output (N, 4 + classes, boxes) or its transpose, boxes as centre x/y, width, height.
Any hit above the score threshold raises ``XRAY_ALARM`` on the parcel for human review.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from edge.outlet.config import DetectorConfig
from models.types import ImageRGB

log = logging.getLogger(__name__)


class DetectorError(RuntimeError):
    """The configured detector cannot be loaded or does not look like YOLO output."""


@dataclass(frozen=True)
class ItemHit:
    """One detected prohibited item."""

    label: str
    score: float


class ItemDetector(Protocol):
    """Finds prohibited items in an X-ray image."""

    def detect(self, image_rgb: ImageRGB) -> list[ItemHit]: ...


class YoloOnnxDetector:
    """A YOLO-style ONNX detector run with onnxruntime on the CPU."""

    def __init__(self, config: DetectorConfig) -> None:
        import onnxruntime as ort

        if not config.model_path.is_file():
            raise DetectorError(f"no detector model at {config.model_path}")
        try:
            self._session = ort.InferenceSession(
                str(config.model_path), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise DetectorError(f"cannot load {config.model_path}: {exc}") from exc
        self._input = self._session.get_inputs()[0].name
        self._config = config

    def detect(self, image_rgb: ImageRGB) -> list[ItemHit]:
        """Hits above the score threshold, best per class."""
        size = self._config.input_size_px
        blob = cv2.resize(image_rgb, (size, size)).astype(np.float32) / 255.0
        output = np.asarray(
            self._session.run(None, {self._input: blob.transpose(2, 0, 1)[None]})[0]
        )
        return parse_yolo(output, self._config.labels, self._config.score_threshold)


def parse_yolo(output: np.ndarray, labels: list[str], threshold: float) -> list[ItemHit]:
    """Best score per class of a (1, 4 + C, N) or (1, N, 4 + C) YOLO output above ``threshold``."""
    rows = output[0] if output.ndim == 3 else output
    if rows.ndim != 2 or len(labels) + 4 not in rows.shape:
        raise DetectorError(f"output shape {output.shape} does not fit {len(labels)} labels")
    if rows.shape[0] == len(labels) + 4:
        rows = rows.T
    best = rows[:, 4:].max(axis=0)
    return [
        ItemHit(label, float(score))
        for label, score in zip(labels, best, strict=True)
        if score >= threshold
    ]


def load_detector(config: DetectorConfig | None) -> ItemDetector | None:
    """The configured detector, or None when none is configured."""
    if config is None:
        return None
    log.info("event=xray_detector_loaded path=%s labels=%d", config.model_path, len(config.labels))
    return YoloOnnxDetector(config)
