"""X-ray passage and the prohibited-item detector slot (a tiny generated ONNX model)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edge.outlet.config import DetectorConfig, OutletConfig
from edge.outlet.detector import DetectorError, load_detector, parse_yolo
from edge.outlet.evidence import ParcelEvidenceStore
from edge.outlet.inspector import OutletInspector
from edge.outlet.sender import SenderDesk
from tests.edge.outlet.conftest import HASH_KEY, VALID_ID
from tests.edge.outlet.scenes import Scenario, Textures, render

LABELS = ["knife", "gun"]


def yolo_model(path: Path, scores: tuple[float, float]) -> Path:
    """A YOLO-shaped ONNX model: (1, 3, 32, 32) in, (1, 6, 3) out with fixed class scores."""
    rows = np.zeros((1, 6, 3), np.float32)
    rows[0, 4, 1], rows[0, 5, 2] = scores
    nodes = [
        helper.make_node("ReduceSum", ["images"], ["total"], keepdims=0),
        helper.make_node("Mul", ["total", "zero"], ["nothing"]),
        helper.make_node("Add", ["nothing", "rows"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "fixed-yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 6, 3])],
        [
            numpy_helper.from_array(np.zeros((), np.float32), "zero"),
            numpy_helper.from_array(rows, "rows"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


@pytest.mark.parametrize(
    ("scores", "expected"),
    [((0.9, 0.1), ["knife"]), ((0.2, 0.7), ["gun"]), ((0.1, 0.2), [])],
)
def test_detector_reports_hits_above_threshold(
    tmp_path: Path, scores: tuple[float, float], expected: list[str]
) -> None:
    config = DetectorConfig(
        model_path=yolo_model(tmp_path / "m.onnx", scores), labels=LABELS, input_size_px=32
    )
    detector = load_detector(config)
    assert detector is not None
    hits = detector.detect(np.zeros((40, 60, 3), np.uint8))
    assert [hit.label for hit in hits] == expected


@pytest.mark.parametrize("shape", [(1, 6, 3), (1, 3, 6)])
def test_either_yolo_layout_parses(shape: tuple[int, int, int]) -> None:
    output = np.zeros(shape, np.float32)
    output.reshape(-1)[-1] = 0.9
    assert len(parse_yolo(output, LABELS, 0.5)) == 1


def test_wrong_output_shape_or_missing_model_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DetectorError, match="does not fit"):
        parse_yolo(np.zeros((1, 7, 3), np.float32), LABELS, 0.5)
    with pytest.raises(DetectorError, match="no detector model"):
        load_detector(DetectorConfig(model_path=tmp_path / "none.onnx", labels=LABELS))


def test_a_hit_raises_xray_alarm(
    tmp_path: Path, outlet_config: OutletConfig, textures: Textures
) -> None:
    config = DetectorConfig(
        model_path=yolo_model(tmp_path / "m.onnx", (0.95, 0.0)), labels=LABELS, input_size_px=32
    )
    inspector = OutletInspector(
        outlet_config,
        SenderDesk(HASH_KEY, 300),
        ParcelEvidenceStore(outlet_config.evidence),
        detector=load_detector(config),
    )
    inspector.sender.submit(VALID_ID, read_s=0.0)
    done = []
    for t, frame in render(Scenario("alarm"), textures):
        done += inspector.desk_frame(
            frame, t, datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=t)
        )
    (record,) = done
    assert record.flags == ["XRAY_ALARM"] and record.xray_passed


def test_clips_are_pruned_with_keyframes(outlet_config: OutletConfig) -> None:
    store = ParcelEvidenceStore(outlet_config.evidence)
    frames = [np.full((48, 64, 3), value, np.uint8) for value in (10, 200, 90)]
    clip_id = store.save_clip(frames)
    assert clip_id is not None and store.path(clip_id) is not None
    assert store.prune(now_s=4e9) == 1 and store.path(clip_id) is None
