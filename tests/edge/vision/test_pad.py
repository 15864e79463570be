"""The presentation-attack model slot: loaded by path, its verdict can fail liveness."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edge.liveness import PadConfig, load_attack_detector
from models.engine import FaceEngine
from models.errors import ModelError
from models.sessions import RuntimeConfig
from tests.edge.videogen import FaceCut
from tests.edge.vision.rig import Enrolled, VisionRig, answer_challenge


def constant_pad_model(path: Path, attack_probability: float) -> Path:
    """An ONNX model that answers ``attack_probability`` for any 112x112 chip."""
    mean = helper.make_node("ReduceMean", ["chip"], ["level"], axes=[1, 2, 3], keepdims=0)
    zero = helper.make_node("Mul", ["level", "zero"], ["nothing"])
    answer = helper.make_node("Add", ["nothing", "probability"], ["attack"])
    graph = helper.make_graph(
        [mean, zero, answer],
        "constant_pad",
        [helper.make_tensor_value_info("chip", TensorProto.FLOAT, [1, 3, 112, 112])],
        [helper.make_tensor_value_info("attack", TensorProto.FLOAT, [1])],
        [
            helper.make_tensor("zero", TensorProto.FLOAT, [1], [0.0]),
            helper.make_tensor("probability", TensorProto.FLOAT, [1], [attack_probability]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_no_model_configured_means_no_detector() -> None:
    assert load_attack_detector(PadConfig(), RuntimeConfig()) is None


def test_missing_model_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        load_attack_detector(PadConfig(model_path=tmp_path / "none.onnx"), RuntimeConfig())


@pytest.mark.parametrize(("probability", "liveness"), [(0.9, "failed"), (0.1, "passed")])
def test_pad_model_verdict_counts_with_the_challenge(
    tmp_path: Path,
    engine: FaceEngine,
    face_cuts: list[FaceCut],
    probability: float,
    liveness: str,
) -> None:
    config = PadConfig(model_path=constant_pad_model(tmp_path / "pad.onnx", probability))
    detector = load_attack_detector(config, RuntimeConfig())
    assert detector is not None
    chip = np.zeros((80, 60, 3), np.uint8)
    assert detector.attack_probability(chip) == pytest.approx(probability)
    rig = VisionRig(engine, liveness="always", attack_detector=detector)
    rig.enrol(Enrolled("resident-0"), face_cuts[0])
    decisions = answer_challenge(rig, face_cuts[0])
    assert [d.liveness for d in decisions] == [liveness]
