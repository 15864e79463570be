"""SCRFD face detector (InsightFace, with keypoints) decoded with numpy, without OpenCV.

The network takes one RGB ``float32`` NCHW tensor, ``(x - 127.5) / 128``, holding the image
letterboxed into the input canvas (aspect kept, black padding at the bottom and right). For each
stride 8, 16 and 32 it returns, per anchor (two per grid cell, cells row-major), a face
probability, a box as distances ``(left, top, right, bottom)`` from the anchor centre and five
landmarks as ``(dx, dy)`` offsets from it, both in units of the stride. Anchor centres sit at
``(column, row) * stride``. Outputs are told apart by shape, never by name: the last axis is 1,
4 or 10 wide and the number of rows, ``2 * (height / stride) * (width / stride)``, gives the
stride. The landmarks come in the order of ``models.types``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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
ANCHORS_PER_CELL = 2
HEAD_WIDTHS = (1, 4, 2 * LANDMARK_COUNT)
"""Last-axis width of the score, box and keypoint outputs."""
OUTPUT_COUNT = len(STRIDES) * len(HEAD_WIDTHS)
PIXEL_MEAN = 127.5
PIXEL_SCALE = 1 / 128

Shape = Sequence[int | str | None]
HeadOrder = list[list[int]]
"""Output indices as ``order[head][level]``: head in ``HEAD_WIDTHS`` order, level in ``STRIDES``."""


class ScrfdConfig(BaseModel):
    """Tuning of ``ScrfdDetector``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    score_threshold: float = Field(default=0.5, ge=0, le=1, description="Minimum face score.")
    nms_iou: float = Field(default=0.4, gt=0, le=1, description="IoU above which boxes merge.")
    min_face_px: float = Field(default=20, ge=0, description="Minimum box side in pixels.")
    input_size: int = Field(
        default=640,
        ge=32,
        multiple_of=32,
        description="Side of the square input canvas; a fixed-size model uses its own size.",
    )


def letterbox(image: ImageRGB, canvas_hw: tuple[int, int]) -> tuple[FloatArray, FloatArray]:
    """Network input for ``image`` and the ``(x, y)`` factors from canvas to image pixels."""
    height, width = image.shape[:2]
    scale = min(canvas_hw[0] / height, canvas_hw[1] / width)
    new_h = min(canvas_hw[0], max(1, math.floor(height * scale + 1e-6)))
    new_w = min(canvas_hw[1], max(1, math.floor(width * scale + 1e-6)))
    canvas = np.zeros((*canvas_hw, 3), np.uint8)
    canvas[:new_h, :new_w] = resize_rgb(image, new_w, new_h)
    blob = (canvas.astype(np.float32) - PIXEL_MEAN) * PIXEL_SCALE
    factors = np.array([width / new_w, height / new_h], np.float32)
    return blob.transpose(2, 0, 1)[None].astype(np.float32), factors


def expected_rows(canvas_hw: tuple[int, int]) -> list[int]:
    """Anchors per output at each stride for a canvas of ``canvas_hw`` pixels."""
    return [ANCHORS_PER_CELL * (canvas_hw[0] // s) * (canvas_hw[1] // s) for s in STRIDES]


def _rows_and_width(shape: Shape) -> tuple[int | str | None, int | str | None]:
    """Anchor count and last-axis width of an ``(n, c)`` or ``(1, n, c)`` output shape."""
    batched = len(shape) == 3 and (shape[0] == 1 or not isinstance(shape[0], int))
    if len(shape) != 2 and not batched:
        raise ModelError(f"SCRFD output shape {list(shape)} is not (n, c) or (1, n, c)")
    return shape[-2], shape[-1]


def assign_outputs(shapes: Sequence[Shape], canvas_hw: tuple[int, int]) -> HeadOrder:
    """Which output is which head at which stride, from concrete shapes; ModelError otherwise."""
    if len(shapes) != OUTPUT_COUNT:
        raise ModelError(f"SCRFD with keypoints has {OUTPUT_COUNT} outputs, got {len(shapes)}")
    rows = expected_rows(canvas_hw)
    slots: dict[tuple[int | str | None, int | str | None], int] = {}
    for index, shape in enumerate(shapes):
        key = _rows_and_width(shape)
        if key in slots:
            raise ModelError(f"SCRFD outputs {slots[key]} and {index} both have shape {key}")
        slots[key] = index
    wanted = [(n, w) for w in HEAD_WIDTHS for n in rows]
    if any(key not in slots for key in wanted):
        raise ModelError(
            f"SCRFD outputs for a {canvas_hw[1]}x{canvas_hw[0]} input must have (rows, width) "
            f"{wanted}; got {[list(shape) for shape in shapes]}"
        )
    return [[slots[(n, w)] for n in rows] for w in HEAD_WIDTHS]


def _check_declared(shapes: Sequence[Shape]) -> None:
    """Reject declared output shapes that no SCRFD model with keypoints could have."""
    if len(shapes) != OUTPUT_COUNT:
        raise ModelError(f"SCRFD with keypoints has {OUTPUT_COUNT} outputs, got {len(shapes)}")
    widths = [_rows_and_width(shape)[1] for shape in shapes]
    for width in HEAD_WIDTHS:
        if widths.count(width) > len(STRIDES):
            raise ModelError(f"SCRFD has {len(STRIDES)} outputs {width} wide, got more: {widths}")
    if unknown := [w for w in widths if isinstance(w, int) and w not in HEAD_WIDTHS]:
        raise ModelError(f"SCRFD outputs are {HEAD_WIDTHS} wide, got widths {unknown}")


class ScrfdDetector:
    """Finds faces and their five landmarks with an SCRFD (keypoints) ONNX session."""

    def __init__(self, session: ort.InferenceSession, config: ScrfdConfig | None = None) -> None:
        self._session = session
        self._config = config or ScrfdConfig()
        inputs = session.get_inputs()
        shape = list(inputs[0].shape) if len(inputs) == 1 else []
        if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
            found = [(i.name, i.shape) for i in inputs]
            raise ModelError(f"SCRFD model must have one (1, 3, h, w) input, got {found}")
        self._input_name: str = inputs[0].name
        self._canvas_hw = self._canvas(shape[2:])
        outputs = session.get_outputs()
        self._output_names = [output.name for output in outputs]
        shapes = [list(output.shape) for output in outputs]
        _check_declared(shapes)
        concrete = all(isinstance(dim, int) for s in shapes for dim in _rows_and_width(s))
        self._order = assign_outputs(shapes, self._canvas_hw) if concrete else None

    @property
    def config(self) -> ScrfdConfig:
        """The detector's settings."""
        return self._config

    @property
    def canvas_hw(self) -> tuple[int, int]:
        """Height and width of the network input."""
        return self._canvas_hw

    def detect(self, image: ImageRGB) -> Detections:
        """Faces in an RGB ``uint8`` image, sorted by descending score."""
        image = check_image(image)
        height, width = image.shape[:2]
        blob, factors = letterbox(image, self._canvas_hw)
        raw = self._session.run(self._output_names, {self._input_name: blob})
        outputs = [np.asarray(out, np.float32) for out in raw]
        if self._order is None:
            self._order = assign_outputs([out.shape for out in outputs], self._canvas_hw)
        candidates = self._decode(outputs, self._order)
        return select_faces(
            to_image_pixels(candidates, factors, width, height),
            score_threshold=self._config.score_threshold,
            min_face_px=self._config.min_face_px,
            nms_threshold=self._config.nms_iou,
        )

    def _canvas(self, hw: Shape) -> tuple[int, int]:
        """The model's fixed input size if it has one, else the configured square."""
        height, width = hw
        if not (isinstance(height, int) and isinstance(width, int)):
            return self._config.input_size, self._config.input_size
        if height % STRIDES[-1] or width % STRIDES[-1] or height <= 0 or width <= 0:
            raise ModelError(f"SCRFD input {width}x{height} is not a multiple of {STRIDES[-1]}")
        return height, width

    def _decode(self, outputs: list[FloatArray], order: HeadOrder) -> Detections:
        """Candidates above the score threshold, in canvas pixels."""
        boxes, landmarks, scores = [], [], []
        cols = [self._canvas_hw[1] // stride for stride in STRIDES]
        for level, stride in enumerate(STRIDES):
            score, box, kps = (outputs[order[head][level]] for head in range(len(HEAD_WIDTHS)))
            score = np.clip(score.reshape(-1), 0, 1)
            anchors = np.flatnonzero(score >= self._config.score_threshold)
            cells = anchors // ANCHORS_PER_CELL
            centre = np.stack([cells % cols[level], cells // cols[level]], axis=1) * stride
            centre = centre.astype(np.float32)
            distance = box.reshape(-1, 4)[anchors] * stride
            boxes.append(np.concatenate([centre - distance[:, :2], centre + distance[:, 2:]], 1))
            offsets = kps.reshape(-1, LANDMARK_COUNT, 2)[anchors] * stride
            landmarks.append(centre[:, None, :] + offsets)
            scores.append(score[anchors])
        return Detections(
            xyxy=np.concatenate(boxes).astype(np.float32),
            landmarks_xy=np.concatenate(landmarks).astype(np.float32),
            scores=np.concatenate(scores).astype(np.float32),
        )
