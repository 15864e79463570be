"""YuNet and MTCNN face detectors on a group photo, blank and malformed images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from models.detectors.mtcnn import MtcnnConfig, MtcnnDetector
from models.detectors.nms import iou_matrix
from models.detectors.yunet import YuNetConfig, YuNetDetector
from models.errors import FaceEngineError
from models.images import load_image
from models.sessions import RuntimeConfig, create_session
from models.types import Detections, Detector, ImageRGB

T1_FACES = 6


@pytest.fixture(scope="session")
def sessions(pack_path: Path) -> dict[str, ort.InferenceSession]:
    """One-thread CPU sessions of the built detector models, by role."""
    files = {
        "yunet": "yunet_2023mar.onnx",
        "pnet": "mtcnn_pnet.onnx",
        "rnet": "mtcnn_rnet.onnx",
        "onet": "mtcnn_onet.onnx",
    }
    runtime = RuntimeConfig(intra_op_threads=1)
    return {role: create_session(pack_path / file, runtime) for role, file in files.items()}


def _detector(name: str, sessions: dict[str, ort.InferenceSession], **config: Any) -> Detector:
    """A detector named ``name`` with ``config`` overriding its default settings."""
    if name == "yunet":
        return YuNetDetector(sessions["yunet"], YuNetConfig(**config))
    nets = (sessions["pnet"], sessions["rnet"], sessions["onet"])
    return MtcnnDetector(*nets, MtcnnConfig(**config))


@pytest.fixture(scope="session")
def detectors(sessions: dict[str, ort.InferenceSession]) -> dict[str, Detector]:
    """Both detectors with default settings."""
    return {name: _detector(name, sessions) for name in ("yunet", "mtcnn")}


@pytest.fixture(scope="session")
def t1_image(t1_image_path: Path) -> ImageRGB:
    """The group photo as an RGB array."""
    return load_image(t1_image_path)


@pytest.fixture(scope="session")
def t1_faces(detectors: dict[str, Detector], t1_image: ImageRGB) -> dict[str, Detections]:
    """Each detector's faces in the group photo."""
    return {name: detector.detect(t1_image) for name, detector in detectors.items()}


@pytest.mark.parametrize("name", ["yunet", "mtcnn"])
def test_finds_the_six_faces_sorted(name: str, t1_faces: dict[str, Detections]) -> None:
    faces = t1_faces[name]
    assert len(faces) == T1_FACES
    assert np.all(np.diff(faces.scores) <= 0)
    assert faces.xyxy.dtype == faces.landmarks_xy.dtype == faces.scores.dtype == np.float32
    overlap = iou_matrix(faces.xyxy, faces.xyxy)
    assert np.all(overlap[~np.eye(T1_FACES, dtype=bool)] < 0.1)


@pytest.mark.parametrize("name", ["yunet", "mtcnn"])
def test_landmarks_are_sane(name: str, t1_faces: dict[str, Detections]) -> None:
    faces = t1_faces[name]
    for box, points in zip(faces.xyxy, faces.landmarks_xy, strict=True):
        assert np.all((points >= box[:2]) & (points <= box[2:])), (box, points)
        left_eye, right_eye, nose, mouth_left, mouth_right = points
        assert left_eye[0] < right_eye[0]
        assert mouth_left[0] < mouth_right[0]
        assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])


def test_detectors_agree_on_boxes(t1_faces: dict[str, Detections]) -> None:
    overlap = iou_matrix(t1_faces["yunet"].xyxy, t1_faces["mtcnn"].xyxy)
    assert np.all(overlap.max(axis=1) > 0.5), overlap
    assert len(set(overlap.argmax(axis=1).tolist())) == T1_FACES


@pytest.mark.parametrize("name", ["yunet", "mtcnn"])
@pytest.mark.parametrize("shape", [(480, 640, 3), (2000, 300, 3), (8, 8, 3)])
def test_blank_image_has_no_faces(
    name: str, shape: tuple[int, int, int], detectors: dict[str, Detector]
) -> None:
    grey = np.full(shape, 128, np.uint8)
    assert len(detectors[name].detect(grey)) == 0


@pytest.mark.parametrize("name", ["yunet", "mtcnn"])
def test_min_face_px_above_every_face_finds_none(
    name: str, sessions: dict[str, ort.InferenceSession], t1_image: ImageRGB
) -> None:
    assert len(_detector(name, sessions, min_face_px=300).detect(t1_image)) == 0


@pytest.mark.parametrize("name", ["yunet", "mtcnn"])
@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((48, 64, 3), np.float32), "dtype uint8"),
        (np.zeros((48, 64), np.uint8), r"shape \(height, width, 3\)"),
        (np.zeros((48, 64, 4), np.uint8), r"shape \(height, width, 3\)"),
        (np.zeros((0, 64, 3), np.uint8), "empty"),
        ([[0, 0, 0]], "numpy array"),
    ],
    ids=["float32", "2-d", "4-channels", "empty", "list"],
)
def test_bad_input_is_rejected(
    name: str, image: Any, message: str, detectors: dict[str, Detector]
) -> None:
    with pytest.raises(FaceEngineError, match=message):
        detectors[name].detect(image)
