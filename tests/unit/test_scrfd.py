"""SCRFD decoding on synthetic ONNX graphs with constant outputs; the buffalo pack manifests.

InsightFace's weights cannot be had here, so each graph emits hand-made score, box and keypoint
tensors shaped as SCRFD's, and the tests check the boxes and landmarks in image pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from models.build import build_pack
from models.detectors.scrfd import ScrfdConfig, ScrfdDetector, letterbox
from models.errors import ModelError
from models.manifest import load_manifest
from models.types import ImageRGB

STRIDES = (8, 16, 32)
IMAGE_HW = (480, 960)
"""Letterboxed into 640 x 640 this becomes 640 x 320: image pixels are canvas pixels * 1.5."""


@dataclass
class Heads:
    """SCRFD output tensors for a square canvas, one (scores, boxes, keypoints) per stride."""

    side: int
    tensors: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for stride in STRIDES:
            rows = 2 * (self.side // stride) ** 2
            for head, width in (("score", 1), ("box", 4), ("kps", 10)):
                self.tensors[head, stride] = np.zeros((rows, width), np.float32)

    def put(
        self, stride: int, row: int, col: int, anchor: int, score: float, box: list[float]
    ) -> None:
        """A candidate at one anchor, its distances in strides and keypoints from KPS_OFFSETS."""
        index = (row * (self.side // stride) + col) * 2 + anchor
        self.tensors["score", stride][index] = score
        self.tensors["box", stride][index] = box
        self.tensors["kps", stride][index] = np.asarray(KPS_OFFSETS).reshape(-1)


KPS_OFFSETS = [(-1.0, -1.0), (1.0, -1.0), (0.0, 0.5), (-0.75, 1.5), (0.75, 1.5)]


def _session(
    outputs: list[tuple[str, np.ndarray]], input_shape: list[int | str], dynamic: bool = False
) -> ort.InferenceSession:
    """A session whose graph returns ``outputs`` as constants.

    With ``dynamic`` each constant is sliced to a length computed from the input's shape, so
    the rows of every output are unknown until the model runs.
    """
    nodes = [
        helper.make_node("Shape", ["input.1"], ["shape"]),
        helper.make_node("Gather", ["shape", "zero"], ["batch"]),
        helper.make_node("Mul", ["batch", "big"], ["end"]),
    ]
    for name, value in outputs:
        tensor = numpy_helper.from_array(value, f"{name}_v")
        target = f"{name}_c" if dynamic else name
        nodes.append(helper.make_node("Constant", [], [target], value=tensor))
        if dynamic:
            nodes.append(helper.make_node("Slice", [target, "zero", "end", "zero"], [name]))
    declared = [[f"n{i}", *v.shape[1:]] if dynamic else v.shape for i, (_, v) in enumerate(outputs)]
    graph = helper.make_graph(
        nodes,
        "scrfd_stub",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, input_shape)],
        [
            helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))
            for (name, _), shape in zip(outputs, declared, strict=True)
        ],
        initializer=[
            numpy_helper.from_array(np.array([0], np.int64), "zero"),
            numpy_helper.from_array(np.array([1 << 30], np.int64), "big"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _insightface_order(heads: Heads) -> list[tuple[str, np.ndarray]]:
    """Outputs in det_10g's order: scores, then boxes, then keypoints, each by stride."""
    return [
        (f"{head}_{stride}", heads.tensors[head, stride])
        for head in ("score", "box", "kps")
        for stride in STRIDES
    ]


def _scene() -> Heads:
    """Three faces, a duplicate of the best one and a weak candidate, for a 640 canvas."""
    heads = Heads(640)
    heads.put(16, row=5, col=10, anchor=1, score=0.9, box=[2, 3, 4, 5])  # face A
    heads.put(16, row=5, col=10, anchor=0, score=0.85, box=[2, 3, 4, 5])  # A again: suppressed
    heads.put(32, row=3, col=12, anchor=0, score=0.8, box=[1, 1, 1, 1])  # face B
    heads.put(8, row=20, col=30, anchor=0, score=0.7, box=[2, 2, 2, 2])  # face C, 48 px
    heads.put(8, row=30, col=60, anchor=1, score=0.3, box=[3, 3, 3, 3])  # below threshold
    return heads


EXPECTED_XYXY = [[192, 48, 336, 240], [528, 96, 624, 192], [336, 216, 384, 264]]
EXPECTED_A_LANDMARKS = [[216, 96], [264, 96], [240, 132], [222, 156], [258, 156]]


def _image() -> ImageRGB:
    return np.full((*IMAGE_HW, 3), 90, np.uint8)


def _layout(name: str) -> ort.InferenceSession:
    """The scene's session with its outputs laid out in one of several ways."""
    outputs = _insightface_order(_scene())
    if name == "insightface":
        return _session(outputs, [1, 3, 640, 640])
    if name == "shuffled_misnamed":
        names = [n for n, _ in outputs][::-1]
        shuffled = [outputs[i][1] for i in (4, 0, 8, 2, 6, 1, 5, 3, 7)]
        return _session(list(zip(names, shuffled, strict=True)), [1, 3, 640, 640])
    if name == "batched":
        return _session([(n, v[None]) for n, v in outputs], [1, 3, 640, 640])
    return _session(outputs, [1, 3, "height", "width"], dynamic=True)


@pytest.mark.parametrize("layout", ["insightface", "shuffled_misnamed", "batched", "dynamic"])
def test_decodes_boxes_and_landmarks_in_image_pixels(layout: str) -> None:
    found = ScrfdDetector(_layout(layout)).detect(_image())
    np.testing.assert_allclose(found.xyxy, EXPECTED_XYXY, atol=1e-4)
    np.testing.assert_allclose(found.scores, [0.9, 0.8, 0.7], atol=1e-6)
    np.testing.assert_allclose(found.landmarks_xy[0], EXPECTED_A_LANDMARKS, atol=1e-4)
    # Face B: anchor centre (384, 96) in the canvas; C: (240, 160); offsets are in strides.
    offsets = np.asarray(KPS_OFFSETS)
    np.testing.assert_allclose(found.landmarks_xy[1], ((384, 96) + offsets * 32) * 1.5, atol=1e-4)
    np.testing.assert_allclose(found.landmarks_xy[2], ((240, 160) + offsets * 8) * 1.5, atol=1e-4)


@pytest.mark.parametrize(
    ("config", "kept"),
    [
        (ScrfdConfig(min_face_px=50), 2),
        (ScrfdConfig(score_threshold=0.75), 2),
        (ScrfdConfig(score_threshold=0.2), 4),
        (ScrfdConfig(nms_iou=1.0), 4),
    ],
)
def test_config_filters_candidates(config: ScrfdConfig, kept: int) -> None:
    assert len(ScrfdDetector(_layout("insightface"), config).detect(_image())) == kept


def test_fixed_input_size_of_the_model_wins_over_the_config() -> None:
    heads = Heads(320)
    heads.put(16, row=2, col=5, anchor=0, score=0.95, box=[1, 1, 1, 1])
    session = _session(_insightface_order(heads), [1, 3, 320, 320])
    detector = ScrfdDetector(session, ScrfdConfig(input_size=640))
    assert detector.canvas_hw == (320, 320)
    found = detector.detect(_image())
    np.testing.assert_allclose(found.xyxy, [[192, 48, 288, 144]], atol=1e-4)


def test_letterbox_scales_pads_and_normalises_rgb() -> None:
    image = np.zeros((2, 4, 3), np.uint8)
    image[...] = (255, 127, 0)
    blob, factors = letterbox(image, (640, 640))
    assert blob.shape == (1, 3, 640, 640) and blob.dtype == np.float32
    np.testing.assert_allclose(blob[0, :, 100, 100], [127.5 / 128, -0.5 / 128, -127.5 / 128])
    np.testing.assert_allclose(blob[0, :, 400, 100], [-127.5 / 128] * 3)  # padding below
    np.testing.assert_allclose(factors, [4 / 640, 2 / 320])


def _without(heads: Heads, head: str) -> list[tuple[str, np.ndarray]]:
    return [(n, v) for n, v in _insightface_order(heads) if not n.startswith(head)]


@pytest.mark.parametrize(
    "outputs",
    [
        pytest.param(_without(Heads(640), "kps"), id="no_keypoints"),
        pytest.param(
            [
                (n, v[:, :8] if n.startswith("kps") else v)
                for n, v in _insightface_order(Heads(640))
            ],
            id="keypoints_8_wide",
        ),
        pytest.param(_insightface_order(Heads(320)), id="rows_for_another_size"),
        pytest.param([(n, v[None, None]) for n, v in _insightface_order(Heads(640))], id="rank_4"),
    ],
)
def test_wrong_outputs_raise_model_error(outputs: list[tuple[str, np.ndarray]]) -> None:
    with pytest.raises(ModelError, match="SCRFD"):
        ScrfdDetector(_session(outputs, [1, 3, 640, 640]))


def test_wrong_outputs_of_a_dynamic_model_raise_when_run() -> None:
    outputs = _insightface_order(Heads(320))
    detector = ScrfdDetector(_session(outputs, [1, 3, "h", "w"], dynamic=True))
    with pytest.raises(ModelError, match="640x640"):
        detector.detect(_image())


def test_grey_input_raises_model_error() -> None:
    with pytest.raises(ModelError, match="input"):
        ScrfdDetector(_session(_insightface_order(Heads(640)), [1, 1, 640, 640]))


@pytest.mark.parametrize(
    ("pack", "files"),
    [
        ("buffalo_l", ["det_10g.onnx", "w600k_r50.onnx"]),
        ("buffalo_s", ["det_500m.onnx", "w600k_mbf.onnx"]),
    ],
)
def test_insightface_manifests_are_user_supplied_and_non_commercial(
    pack: str, files: list[str], tmp_path: Path
) -> None:
    manifest = load_manifest(pack)
    assert manifest.commercial_use is False
    assert manifest.sources == {}
    assert [o.file for m in manifest.models for o in m.outputs] == files
    assert all(m.builder == "user_supplied" for m in manifest.models)
    assert all(o.sha256 is None for m in manifest.models for o in m.outputs)
    assert {m.role for m in manifest.models} == {"detector", "embedder"}
    assert (manifest.defaults.detector, manifest.defaults.embedder) == ("scrfd", "arcface")
    arcface = manifest.model("arcface")
    assert arcface.dimension == 512 and arcface.threshold is not None
    assert "not calibrated" in arcface.notes.lower()
    with pytest.raises(ModelError, match="user-supplied"):
        build_pack(manifest, tmp_path, progress=False)
