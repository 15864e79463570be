"""The dlib face-recognition ResNet converter: format reader, parity with dlib, determinism."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from models.converters.dlib_format import DlibReader
from models.converters.dlib_resnet import convert_dlib_resnet
from models.converters.parity_chips import chip_sha256, chips_to_nchw, make_parity_chips
from models.errors import ModelError

PARITY_JSON = Path(__file__).resolve().parents[1] / "data" / "dlib_parity.json"
MAX_ABS_DIFF = 1e-4


@pytest.fixture(scope="session")
def dlib_onnx(tmp_path_factory: pytest.TempPathFactory, dlib_dat_path: Path) -> Path:
    """The dlib model converted once per test session."""
    out = tmp_path_factory.mktemp("dlib_onnx") / "dlib_resnet.onnx"
    convert_dlib_resnet(dlib_dat_path, out)
    return out


def _reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PARITY_JSON.read_text())
    return data


# --------------------------------------------------------------------------- format reader


def test_reader_decodes_dlib_primitives() -> None:
    tensor = b"\x01\x02" + b"\x01\x01\x01\x02\x01\x01\x01\x01" + struct.pack("<2f", 1.5, -2.0)
    data = (
        b"\x01\x00"
        + b"\x81\x01"
        + b"\x02\x2c\x01"  # ints 0, -1, 300
        + b"\x03\x9a\x99\x99\x81\x18"  # float 0.6 (mantissa, exponent)
        + b"\x01\x03abc"
        + b"1"
        + tensor
    )
    r = DlibReader(data)
    assert [r.read_int(), r.read_int(), r.read_int()] == [0, -1, 300]
    assert r.read_float() == pytest.approx(0.6, abs=1e-7)
    assert r.read_string() == "abc"
    assert r.read_bool() is True
    np.testing.assert_array_equal(r.read_tensor(), np.array([1.5, -2.0]).reshape(1, 2, 1, 1))
    assert r.remaining == 0


_HUGE_DIM = b"\x04\xff\xff\xff\x7f"


@pytest.mark.parametrize(
    ("method", "data"),
    [
        ("read_int", b""),
        ("read_int", b"\x00"),
        ("read_int", b"\x05\x01"),
        ("read_uint", b"\x81\x01"),
        ("read_string", b"\x01\x05ab"),
        ("read_string", b"\x01\x02\xff\xfe"),
        ("read_bool", b"2"),
        ("read_float", b"0.5 "),
        ("read_tensor", b"\x01\x03"),
        ("read_tensor", b"\x01\x02" + _HUGE_DIM * 4),
        ("read_tensor", b"\x01\x02\x01\x01\x81\x01\x01\x01\x01\x01"),
    ],
)
def test_reader_rejects_malformed_values(method: str, data: bytes) -> None:
    reader = DlibReader(data, "blob")
    with pytest.raises(ModelError, match=r"^blob: .*byte offset \d+"):
        getattr(reader, method)()


# --------------------------------------------------------------------------- converter


def test_matches_dlib(dlib_onnx: Path, t1_image_path: Path, dlib_dat_path: Path) -> None:
    reference = _reference()
    sha = hashlib.sha256(dlib_dat_path.read_bytes()).hexdigest()
    assert reference["provenance"]["model_sha256"] == sha
    chips = make_parity_chips(t1_image_path)
    expected = reference["chips"]
    assert [name for name, _ in chips] == [c["name"] for c in expected]
    for (name, chip), ref in zip(chips, expected, strict=True):
        assert chip_sha256(chip) == ref["sha256"], f"chip {name} differs from the reference"
    session = ort.InferenceSession(str(dlib_onnx), providers=["CPUExecutionProvider"])
    (got,) = session.run(["embedding"], {"chip": chips_to_nchw([c for _, c in chips])})
    want = np.array([c["embedding"] for c in expected], dtype=np.float64)
    assert got.shape == (len(chips), 128)
    assert float(np.abs(got - want).max()) <= MAX_ABS_DIFF


def test_graph_interface(dlib_onnx: Path) -> None:
    model = onnx.load(str(dlib_onnx))
    assert model.producer_name == "anju-models"
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 17)]
    (chip,) = model.graph.input
    (embedding,) = model.graph.output
    assert chip.name == "chip"
    assert [d.dim_value for d in chip.type.tensor_type.shape.dim][1:] == [3, 150, 150]
    assert embedding.name == "embedding"
    assert embedding.type.tensor_type.shape.dim[1].dim_value == 128


def test_conversion_is_deterministic(dlib_onnx: Path, dlib_dat_path: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.onnx"
    convert_dlib_resnet(dlib_dat_path, again)
    assert again.read_bytes() == dlib_onnx.read_bytes()


@pytest.mark.parametrize("keep", [0.0, 0.00001, 0.5, 0.99999])
def test_truncated_file_raises_model_error(
    dlib_dat_path: Path, tmp_path: Path, keep: float
) -> None:
    data = dlib_dat_path.read_bytes()
    cut = tmp_path / "cut.dat"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelError, match="byte offset"):
        convert_dlib_resnet(cut, tmp_path / "out.onnx")
    assert not (tmp_path / "out.onnx").exists()


@pytest.mark.parametrize("prefix", [b"", b"\x01\x01\x01\x0dloss_metric_2"])
def test_garbage_file_raises_model_error(tmp_path: Path, prefix: bytes) -> None:
    garbage = np.random.default_rng(0).integers(0, 256, 65536, dtype=np.uint8).tobytes()
    bad = tmp_path / "garbage.dat"
    bad.write_bytes(prefix + garbage)
    with pytest.raises(ModelError):
        convert_dlib_resnet(bad, tmp_path / "out.onnx")


def test_trailing_bytes_and_missing_file_raise_model_error(
    dlib_dat_path: Path, tmp_path: Path
) -> None:
    padded = tmp_path / "padded.dat"
    padded.write_bytes(dlib_dat_path.read_bytes() + b"\x00")
    with pytest.raises(ModelError, match="trailing"):
        convert_dlib_resnet(padded, tmp_path / "out.onnx")
    with pytest.raises(ModelError):
        convert_dlib_resnet(tmp_path / "missing.dat", tmp_path / "out.onnx")
