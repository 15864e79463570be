"""MTCNN face detector: a P-Net, R-Net, O-Net cascade over ONNX sessions, without OpenCV.

The nets take NHWC RGB ``float32`` input scaled as ``(x - 127.5) / 128``. They were trained on
transposed images (width and height swapped, as in the original Caffe release), so every input
is transposed and the P-Net maps are transposed back; box offsets and landmarks then come out in
image x, y order. O-Net landmarks are ``x1..x5, y1..y5`` as fractions of the box.
"""

from __future__ import annotations

import math

import numpy as np
import onnxruntime as ort
from pydantic import BaseModel, ConfigDict, Field

from models.detectors.nms import check_image, nms, resize_rgb, select_faces
from models.errors import ModelError
from models.types import LANDMARK_COUNT, Detections, FloatArray, ImageRGB

_CELL_PX = 12
_CELL_STRIDE = 2
_SCALE_NMS_IOU = 0.5
_PYRAMID_NMS_IOU = 0.7
_RNET_NMS_IOU = 0.7
_FINAL_NMS_OVERLAP = 0.7


class MtcnnConfig(BaseModel):
    """Tuning of ``MtcnnDetector``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_face_px: float = Field(
        default=20, ge=12, description="Minimum box side in pixels; sets the first pyramid scale."
    )
    scale_factor: float = Field(default=0.709, gt=0.1, lt=1, description="Pyramid step.")
    pnet_threshold: float = Field(default=0.6, ge=0, le=1, description="P-Net face probability.")
    rnet_threshold: float = Field(default=0.7, ge=0, le=1, description="R-Net face probability.")
    score_threshold: float = Field(
        default=0.8, ge=0, le=1, description="O-Net face probability (final score)."
    )


def _outputs_by_width(session: ort.InferenceSession, widths: tuple[int, ...]) -> list[str]:
    """Output names ordered as ``widths``, matched on the size of each output's last axis."""
    found = {output.shape[-1]: output.name for output in session.get_outputs()}
    if sorted(found) != sorted(widths):
        raise ModelError(f"MTCNN net outputs have widths {sorted(found)}, expected {widths}")
    return [found[width] for width in widths]


def _normalise(batch: FloatArray | ImageRGB) -> FloatArray:
    """NHWC batch (or one HWC image) as transposed, scaled network input."""
    if batch.ndim == 3:
        batch = batch[None]
    return ((batch.astype(np.float32) - 127.5) / 128.0).transpose(0, 2, 1, 3)


def _squared(xyxy: FloatArray) -> FloatArray:
    """Boxes grown to squares about their centres."""
    centre = (xyxy[:, :2] + xyxy[:, 2:4]) / 2
    half = (xyxy[:, 2:4] - xyxy[:, :2]).max(axis=1, keepdims=True) / 2
    return np.concatenate([centre - half, centre + half], axis=1).astype(np.float32)


def _regressed(xyxy: FloatArray, offsets: FloatArray) -> FloatArray:
    """Boxes moved by offsets given as fractions of their width and height."""
    sides = xyxy[:, 2:4] - xyxy[:, :2]
    return (xyxy + offsets * np.tile(sides, 2)).astype(np.float32)


def _crops(image: ImageRGB, xyxy: FloatArray, size: int) -> ImageRGB:
    """``(n, size, size, 3)`` resized crops of ``xyxy``, zero-padded past the image border."""
    height, width = image.shape[:2]
    batch = np.zeros((len(xyxy), size, size, 3), np.uint8)
    for index, box in enumerate(np.round(xyxy).astype(np.int64)):
        x1, y1, x2, y2 = (int(v) for v in box)
        if x2 <= x1 or y2 <= y1:
            continue
        patch = np.zeros((y2 - y1, x2 - x1, 3), np.uint8)
        sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
        if sx2 > sx1 and sy2 > sy1:
            patch[sy1 - y1 : sy2 - y1, sx1 - x1 : sx2 - x1] = image[sy1:sy2, sx1:sx2]
        batch[index] = resize_rgb(patch, size, size)
    return batch


class MtcnnDetector:
    """Finds faces and their five landmarks with the three MTCNN nets."""

    def __init__(
        self,
        pnet: ort.InferenceSession,
        rnet: ort.InferenceSession,
        onet: ort.InferenceSession,
        config: MtcnnConfig | None = None,
    ) -> None:
        self._nets = (pnet, rnet, onet)
        self._inputs = [net.get_inputs()[0].name for net in self._nets]
        self._outputs = [
            _outputs_by_width(pnet, (4, 2)),
            _outputs_by_width(rnet, (4, 2)),
            _outputs_by_width(onet, (4, 2 * LANDMARK_COUNT, 2)),
        ]
        self._config = config or MtcnnConfig()

    @property
    def config(self) -> MtcnnConfig:
        """The detector's settings."""
        return self._config

    def detect(self, image: ImageRGB) -> Detections:
        """Faces in an RGB ``uint8`` image, sorted by descending score."""
        image = check_image(image)
        boxes = self._propose(image)
        if len(boxes):
            boxes = self._refine(image, boxes)
        if not len(boxes):
            return Detections.empty()
        return select_faces(
            self._output(image, boxes),
            score_threshold=self._config.score_threshold,
            min_face_px=self._config.min_face_px,
            nms_threshold=_FINAL_NMS_OVERLAP,
            mode="min",
        )

    def _run(self, stage: int, batch: FloatArray) -> list[FloatArray]:
        """Outputs of one net, in the order fixed in ``__init__``."""
        outputs = self._nets[stage].run(self._outputs[stage], {self._inputs[stage]: batch})
        return [np.asarray(out, np.float32) for out in outputs]

    def _scales(self, height: int, width: int) -> list[float]:
        """Pyramid scales mapping the smallest wanted face onto the 12-pixel P-Net cell."""
        scale = _CELL_PX / self._config.min_face_px
        scales = []
        while min(height, width) * scale >= _CELL_PX:
            scales.append(scale)
            scale *= self._config.scale_factor
        return scales

    def _propose(self, image: ImageRGB) -> FloatArray:
        """Square candidate boxes from P-Net over the image pyramid."""
        height, width = image.shape[:2]
        found: list[tuple[FloatArray, FloatArray, FloatArray]] = []
        for scale in self._scales(height, width):
            scaled = resize_rgb(image, math.ceil(width * scale), math.ceil(height * scale))
            offsets, probs = (out[0].transpose(1, 0, 2) for out in self._run(0, _normalise(scaled)))
            rows, cols = np.nonzero(probs[:, :, 1] >= self._config.pnet_threshold)
            corner = np.stack([cols, rows], axis=1).astype(np.float32) * _CELL_STRIDE
            boxes = (np.concatenate([corner, corner + _CELL_PX], axis=1) / scale).astype(np.float32)
            scores = probs[rows, cols, 1]
            keep = nms(boxes, scores, _SCALE_NMS_IOU)
            found.append((boxes[keep], scores[keep], offsets[rows, cols][keep]))
        if not found:
            return np.zeros((0, 4), np.float32)
        boxes, scores, offsets = (np.concatenate(parts) for parts in zip(*found, strict=True))
        keep = nms(boxes, scores, _PYRAMID_NMS_IOU)
        return _squared(_regressed(boxes[keep], offsets[keep]))

    def _refine(self, image: ImageRGB, boxes: FloatArray) -> FloatArray:
        """Candidates R-Net accepts, regressed and squared."""
        offsets, probs = self._run(1, _normalise(_crops(image, boxes, 24)))
        passed = np.flatnonzero(probs[:, 1] > self._config.rnet_threshold)
        keep = passed[nms(boxes[passed], probs[passed, 1], _RNET_NMS_IOU)]
        return _squared(_regressed(boxes[keep], offsets[keep]))

    def _output(self, image: ImageRGB, boxes: FloatArray) -> Detections:
        """O-Net scores, regressed boxes and landmarks for every candidate."""
        offsets, points, probs = self._run(2, _normalise(_crops(image, boxes, 48)))
        sides = boxes[:, 2:4] - boxes[:, :2]
        fractions = points.reshape(-1, 2, LANDMARK_COUNT).transpose(0, 2, 1)
        landmarks = boxes[:, None, :2] + fractions * sides[:, None, :]
        return Detections(
            xyxy=_regressed(boxes, offsets),
            landmarks_xy=landmarks.astype(np.float32),
            scores=probs[:, 1].astype(np.float32),
        )
