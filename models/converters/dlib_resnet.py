"""Convert dlib's face-recognition ResNet (``dlib_face_recognition_resnet_model_v1.dat``) to ONNX.

dlib stores a network as nested wrappers: every ``add_layer``/``add_tag_layer``/``add_skip_layer``
writes its version and then its subnetwork, so the file holds all wrapper versions (outermost
first), then the input layer, then each layer's details from input to output. Tag and skip
wrappers carry no ids, so the topology of ``dnn_face_recognition_ex.cpp`` is held here as data
and every parsed record is checked against it.

The ONNX graph takes ``chip`` (float32 ``[N, 3, 150, 150]``, RGB values 0..255), normalises it
with the file's channel means and ``/256`` like dlib, and returns ``embedding`` (``[N, 128]``).
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from models.converters.dlib_format import DlibReader
from models.errors import ModelError

F32 = npt.NDArray[np.float32]
OpKind = Literal["con", "affine", "relu", "add_prev", "max_pool", "avg_pool", "fc", "tag", "skip"]

OPSET = 17
IR_VERSION = 8
PRODUCER = "anju-models"
INPUT_NAME = "chip"
OUTPUT_NAME = "embedding"
CHIP_SIZE = 150
EMBEDDING_DIM = 128


# --------------------------------------------------------------------------- topology


@dataclass(frozen=True)
class Op:
    """One step of the network, input to output; ``size == 0`` pools over the whole input."""

    kind: OpKind
    size: int = 0
    stride: int = 1
    filters: int = 0
    ref: int = 0  # tag id for tag / skip / add_prev

    @property
    def is_layer(self) -> bool:
        """Whether the step is an ``add_layer`` (has a record) rather than a tag or skip."""
        return self.kind not in ("tag", "skip")


def _block(filters: int, stride: int) -> list[Op]:
    return [
        Op("con", 3, stride, filters),
        Op("affine"),
        Op("relu"),
        Op("con", 3, 1, filters),
        Op("affine"),
    ]


def _ares(filters: int) -> list[Op]:
    return [Op("tag", ref=1), *_block(filters, 1), Op("add_prev", ref=1), Op("relu")]


def _ares_down(filters: int) -> list[Op]:
    return [
        Op("tag", ref=1),
        *_block(filters, 2),
        Op("tag", ref=2),
        Op("skip", ref=1),
        Op("avg_pool", 2, 2),
        Op("add_prev", ref=2),
        Op("relu"),
    ]


def _build_topology() -> tuple[Op, ...]:
    ops = [Op("con", 7, 2, 32), Op("affine"), Op("relu"), Op("max_pool", 3, 2)]
    ops += _ares(32) * 3
    ops += _ares_down(64) + _ares(64) * 3
    ops += _ares_down(128) + _ares(128) * 2
    ops += _ares_down(256) + _ares(256) * 2
    ops += _ares_down(256)
    ops += [Op("avg_pool", 0, 1), Op("fc", filters=EMBEDDING_DIM)]
    return tuple(ops)


TOPOLOGY: tuple[Op, ...] = _build_topology()


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class InputRecord:
    """``input_rgb_image_sized``: per-channel means (R, G, B) and chip size."""

    means: tuple[float, float, float]
    rows: int
    cols: int


@dataclass(frozen=True, eq=False)
class ConvRecord:
    """``con_``: weights ``[out, in, kh, kw]``, bias ``[out]``, stride and padding (y, x)."""

    weight: F32
    bias: F32
    stride: tuple[int, int]
    padding: tuple[int, int]
    relu: bool


@dataclass(frozen=True, eq=False)
class AffineRecord:
    """``affine_`` in conv mode: ``y = gamma[k] * x + beta[k]``."""

    gamma: F32
    beta: F32


@dataclass(frozen=True)
class ReluRecord:
    """``relu_`` (``disabled`` makes it an identity)."""

    disabled: bool


@dataclass(frozen=True)
class AddPrevRecord:
    """``add_prev_``: zero-padded sum with the output of the nearest matching tag."""


@dataclass(frozen=True)
class PoolRecord:
    """``max_pool_`` / ``avg_pool_``; a window of 0 covers the whole input."""

    kind: Literal["max", "avg"]
    window: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True, eq=False)
class FcRecord:
    """``fc_`` without bias: ``y = x @ weight`` with weight ``[inputs, outputs]``."""

    weight: F32


LayerRecord = ConvRecord | AffineRecord | ReluRecord | AddPrevRecord | PoolRecord | FcRecord


@dataclass(frozen=True)
class DlibResnet:
    """A parsed model: input layer, loss threshold and one record per layer op of TOPOLOGY."""

    input: InputRecord
    distance_threshold: float
    layers: tuple[LayerRecord, ...]


# --------------------------------------------------------------------------- parsing


_VERSION_KIND: dict[str, OpKind] = {
    "con_4": "con",
    "con_5": "con",
    "con_6": "con",
    "affine_": "affine",
    "affine_2": "affine",
    "relu_": "relu",
    "relu_2": "relu",
    "add_prev_": "add_prev",
    "max_pool_2": "max_pool",
    "avg_pool_2": "avg_pool",
    "fc_2": "fc",
    "fc_3": "fc",
}


def _read_loss(r: DlibReader) -> float:
    start = r.offset
    if r.read_int(4) != 1:
        r.fail("unsupported add_loss_layer version", start)
    if r.expect_string("loss_metric_", "loss_metric_2") == "loss_metric_":
        return 0.75
    r.read_float()  # margin
    return r.read_float()


def _read_versions(r: DlibReader) -> list[int]:
    """Read the wrapper versions (outermost first); return them input-to-output."""
    versions: list[int] = []
    for index in reversed(range(len(TOPOLOGY))):
        op, start = TOPOLOGY[index], r.offset
        version = r.read_int(4)
        if not op.is_layer:
            allowed: tuple[int, ...] = (1,)
        else:
            allowed = (2, 3) if index == 0 else (1, 2)
        if version not in allowed:
            r.fail(f"step {index} ({op.kind}): wrapper version {version} not in {allowed}", start)
        versions.append(version)
    return versions[::-1]


def _read_input(r: DlibReader) -> InputRecord:
    r.expect_string("input_rgb_image_sized")
    start = r.offset
    red, green, blue = (r.read_float() for _ in range(3))
    if not all(math.isfinite(m) for m in (red, green, blue)):
        r.fail("non-finite input channel means", start)
    rows, cols = r.read_uint(), r.read_uint()
    if (rows, cols) != (CHIP_SIZE, CHIP_SIZE):
        r.fail(f"input size {rows}x{cols}, expected {CHIP_SIZE}x{CHIP_SIZE}")
    return InputRecord((red, green, blue), rows, cols)


def _split_params(
    r: DlibReader, params: F32, shapes: Sequence[tuple[int, int, int, int]], start: int
) -> list[F32]:
    """Cut a flat parameter tensor into consecutive alias tensors of the given shapes."""
    flat = params.reshape(-1)
    sizes = [math.prod(s) for s in shapes]
    if sum(sizes) != flat.size:
        r.fail(f"parameter tensor has {flat.size} values, aliases need {sum(sizes)}", start)
    if not np.isfinite(flat).all():
        r.fail("parameter tensor holds non-finite values", start)
    parts, offset = [], 0
    for shape, size in zip(shapes, sizes, strict=True):
        try:
            parts.append(flat[offset : offset + size].reshape(shape))
        except ValueError:
            r.fail(f"invalid parameter alias shape {shape}", start)
        offset += size
    return parts


def _read_conv(r: DlibReader, version: str, op: Op) -> ConvRecord:
    start = r.offset
    params = r.read_tensor()
    filters, rows, cols = r.read_int(), r.read_int(), r.read_int()
    stride = (r.read_int(4), r.read_int(4))
    padding = (r.read_int(4), r.read_int(4))
    w_shape, b_shape = r.read_alias_tensor(), r.read_alias_tensor()
    for _ in range(4):
        r.read_float()  # learning-rate and weight-decay multipliers
    use_bias = r.read_bool() if version in ("con_5", "con_6") else True
    use_relu = r.read_bool() if version == "con_6" else False
    expected_pad = op.size // 2 if op.stride == 1 else 0
    found = (filters, rows, cols, stride, padding)
    wanted = (op.filters, op.size, op.size, (op.stride,) * 2, (expected_pad,) * 2)
    if found != wanted or w_shape[0] != filters or w_shape[2:] != (rows, cols):
        r.fail(f"con_ (filters, nr, nc, stride, padding) = {found}, expected {wanted}", start)
    if not use_bias:
        b_shape = (0, 0, 0, 0)
    weight, bias = _split_params(r, params, [w_shape, b_shape], start)
    if bias.size == 0:
        bias = np.zeros(filters, np.float32)
    return ConvRecord(weight, bias.reshape(-1), stride, padding, use_relu)


def _read_affine(r: DlibReader, version: str) -> AffineRecord:
    start = r.offset
    params = r.read_tensor()
    g_shape, b_shape = r.read_alias_tensor(), r.read_alias_tensor()
    mode = r.read_int(4)
    disabled = r.read_bool() if version == "affine_2" else False
    if mode != 0 or disabled or g_shape != b_shape:
        r.fail(f"affine_ must be an enabled conv-mode layer (mode {mode})", start)
    gamma, beta = _split_params(r, params, [g_shape, b_shape], start)
    return AffineRecord(gamma.reshape(-1), beta.reshape(-1))


def _read_pool(r: DlibReader, op: Op) -> PoolRecord:
    start = r.offset
    rows, cols = r.read_int(), r.read_int()
    stride = (r.read_int(4), r.read_int(4))
    padding = (r.read_int(4), r.read_int(4))
    expected_pad = op.size // 2 if op.stride == 1 else 0
    found = (rows, cols, stride, padding)
    wanted = (op.size, op.size, (op.stride,) * 2, (expected_pad,) * 2)
    if found != wanted:
        r.fail(f"{op.kind} (nr, nc, stride, padding) = {found}, expected {wanted}", start)
    kind: Literal["max", "avg"] = "max" if op.kind == "max_pool" else "avg"
    return PoolRecord(kind, (rows, cols), stride, padding)


def _read_fc(r: DlibReader, version: str, op: Op) -> FcRecord:
    start = r.offset
    outputs, inputs = r.read_uint(), r.read_uint()
    params = r.read_tensor()
    w_shape, b_shape = r.read_alias_tensor(), r.read_alias_tensor()
    bias_mode = r.read_int(4)
    for _ in range(4):
        r.read_float()
    if version == "fc_3":
        r.read_bool()
    if bias_mode != 1 or outputs != op.filters or w_shape != (inputs, outputs, 1, 1):
        r.fail(f"fc_ must be fc_no_bias with {op.filters} outputs", start)
    (weight,) = _split_params(r, params, [w_shape], start)
    del b_shape
    return FcRecord(weight.reshape(inputs, outputs))


def _read_details(r: DlibReader, index: int, op: Op) -> LayerRecord:
    start = r.offset
    version = r.read_string()
    if _VERSION_KIND.get(version) != op.kind:
        r.fail(f"step {index}: expected a {op.kind} layer, found record {version!r}", start)
    if op.kind == "con":
        return _read_conv(r, version, op)
    if op.kind == "affine":
        return _read_affine(r, version)
    if op.kind == "relu":
        disabled = r.read_bool() if version == "relu_2" else False
        return ReluRecord(disabled)
    if op.kind == "add_prev":
        return AddPrevRecord()
    if op.kind in ("max_pool", "avg_pool"):
        return _read_pool(r, op)
    return _read_fc(r, version, op)


def _skip_layer_state(r: DlibReader, index: int, version: int) -> None:
    """Read the flags and cached tensors that follow each layer's details."""
    for _ in range(3):
        r.read_bool()
    r.read_tensor()  # x_grad
    r.read_tensor()  # cached_output
    if index == 0:
        r.read_tensor()  # grad_final
        if version >= 3:
            r.read_uint(4)  # sample_expansion_factor
    elif version >= 2:
        r.read_tensor()  # params_grad


def parse_dlib_resnet(data: bytes, name: str = "<bytes>") -> DlibResnet:
    """Parse the bytes of a dlib face-recognition ResNet model file."""
    r = DlibReader(data, name)
    threshold = _read_loss(r)
    versions = _read_versions(r)
    input_record = _read_input(r)
    layers: list[LayerRecord] = []
    for index, op in enumerate(TOPOLOGY):
        if op.is_layer:
            layers.append(_read_details(r, index, op))
            _skip_layer_state(r, index, versions[index])
    if r.remaining:
        r.fail(f"{r.remaining} unexpected trailing bytes")
    return DlibResnet(input_record, threshold, tuple(layers))


# --------------------------------------------------------------------------- ONNX graph

Shape = tuple[int, int, int]  # (channels, rows, cols) of one sample


@dataclass(frozen=True)
class _Value:
    name: str
    shape: Shape


class _GraphBuilder:
    """Accumulates nodes and initializers with deterministic, sequential names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[TensorProto] = []

    def const(self, stem: str, array: npt.NDArray[np.generic]) -> str:
        name = f"{stem}_{len(self.initializers)}"
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op_type: str, inputs: Sequence[str], output: str = "", **attrs: Any) -> str:
        name = f"{op_type.lower()}_{len(self.nodes)}"
        out = output or name
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=name, **attrs))
        return out


def _fail(index: int, message: str) -> ModelError:
    return ModelError(f"dlib ResNet step {index} ({TOPOLOGY[index].kind}): {message}")


def _fold(index: int, conv: ConvRecord, affine: AffineRecord) -> ConvRecord:
    """Fold an affine layer that follows a convolution into the convolution."""
    if affine.gamma.size != conv.weight.shape[0]:
        raise _fail(index, f"{affine.gamma.size} scales for {conv.weight.shape[0]} filters")
    gamma = affine.gamma.astype(np.float64)
    weight = conv.weight.astype(np.float64) * gamma[:, None, None, None]
    bias = conv.bias.astype(np.float64) * gamma + affine.beta.astype(np.float64)
    with np.errstate(over="ignore"):
        folded = (weight.astype(np.float32), bias.astype(np.float32))
    if not all(np.isfinite(a).all() for a in folded):
        raise _fail(index, "folding the affine layer into the convolution overflows float32")
    return ConvRecord(*folded, conv.stride, conv.padding, conv.relu)


def _conv(g: _GraphBuilder, x: _Value, conv: ConvRecord) -> _Value:
    out_c, _, kh, kw = conv.weight.shape
    (sy, sx), (py, px) = conv.stride, conv.padding
    w, b = g.const("conv_w", conv.weight), g.const("conv_b", conv.bias)
    pads = [py, px, py, px]
    name = g.node("Conv", [x.name, w, b], kernel_shape=[kh, kw], strides=[sy, sx], pads=pads)
    if conv.relu:
        name = g.node("Relu", [name])
    rows = (x.shape[1] + 2 * py - kh) // sy + 1
    cols = (x.shape[2] + 2 * px - kw) // sx + 1
    return _Value(name, (out_c, rows, cols))


def _affine(g: _GraphBuilder, x: _Value, affine: AffineRecord) -> _Value:
    gamma = g.const("affine_gamma", affine.gamma.reshape(1, -1, 1, 1))
    beta = g.const("affine_beta", affine.beta.reshape(1, -1, 1, 1))
    return _Value(g.node("Add", [g.node("Mul", [x.name, gamma]), beta]), x.shape)


def _pool(g: _GraphBuilder, x: _Value, pool: PoolRecord) -> _Value:
    if pool.window == (0, 0):
        op_type = "GlobalMaxPool" if pool.kind == "max" else "GlobalAveragePool"
        return _Value(g.node(op_type, [x.name]), (x.shape[0], 1, 1))
    (kh, kw), (sy, sx), (py, px) = pool.window, pool.stride, pool.padding
    if py or px:
        raise ModelError("padded dlib pooling layers are not supported")
    op_type = "MaxPool" if pool.kind == "max" else "AveragePool"
    name = g.node(op_type, [x.name], kernel_shape=[kh, kw], strides=[sy, sx])
    return _Value(name, (x.shape[0], (x.shape[1] - kh) // sy + 1, (x.shape[2] - kw) // sx + 1))


def _pad_to(g: _GraphBuilder, x: _Value, shape: Shape) -> str:
    """Zero-pad ``x`` at the end of each dimension up to ``shape`` (dlib's tt::add semantics)."""
    if x.shape == shape:
        return x.name
    extra = [0, *(want - have for want, have in zip(shape, x.shape, strict=True))]
    pads = g.const("pads", np.array([0, 0, 0, 0, *extra], dtype=np.int64))
    return g.node("Pad", [x.name, pads], mode="constant")


def _add_prev(g: _GraphBuilder, x: _Value, other: _Value) -> _Value:
    shape: Shape = (
        max(x.shape[0], other.shape[0]),
        max(x.shape[1], other.shape[1]),
        max(x.shape[2], other.shape[2]),
    )
    return _Value(g.node("Add", [_pad_to(g, x, shape), _pad_to(g, other, shape)]), shape)


def _fc(g: _GraphBuilder, x: _Value, fc: FcRecord) -> _Value:
    inputs, outputs = fc.weight.shape
    if math.prod(x.shape) != inputs:
        raise ModelError(f"fc_ expects {inputs} inputs, the network gives {math.prod(x.shape)}")
    flat = g.node("Flatten", [x.name], axis=1)
    name = g.node("MatMul", [flat, g.const("fc_w", fc.weight)], output=OUTPUT_NAME)
    return _Value(name, (outputs, 1, 1))


def _normalise(g: _GraphBuilder, record: InputRecord) -> _Value:
    means = g.const("input_means", np.array(record.means, np.float32).reshape(1, 3, 1, 1))
    scale = g.const("input_scale", np.array(1.0 / 256.0, np.float32))
    centred = g.node("Sub", [INPUT_NAME, means])
    return _Value(g.node("Mul", [centred, scale]), (3, record.rows, record.cols))


def _check_channels(index: int, x: _Value, channels: int) -> None:
    if x.shape[0] != channels:
        raise _fail(index, f"expects {channels} channels, input has {x.shape[0]}")


Step = tuple[int, Op, LayerRecord | None]


def _fused_steps(net: DlibResnet) -> list[Step]:
    """Pair topology ops with records, folding each conv-then-affine pair into one conv."""
    records = iter(net.layers)
    steps: list[Step] = []
    for index, op in enumerate(TOPOLOGY):
        record = next(records) if op.is_layer else None
        last = steps[-1][2] if steps else None
        if isinstance(record, AffineRecord) and isinstance(last, ConvRecord) and not last.relu:
            steps[-1] = (steps[-1][0], steps[-1][1], _fold(index, last, record))
        else:
            steps.append((index, op, record))
    return steps


def _emit_layer(g: _GraphBuilder, x: _Value, record: LayerRecord, tagged: _Value | None) -> _Value:
    if isinstance(record, ConvRecord):
        return _conv(g, x, record)
    if isinstance(record, AffineRecord):
        return _affine(g, x, record)
    if isinstance(record, ReluRecord):
        return x if record.disabled else _Value(g.node("Relu", [x.name]), x.shape)
    if isinstance(record, AddPrevRecord):
        if tagged is None:
            raise ModelError("add_prev_ layer without a matching tag")
        return _add_prev(g, x, tagged)
    if isinstance(record, PoolRecord):
        return _pool(g, x, record)
    return _fc(g, x, record)


def _emit(g: _GraphBuilder, net: DlibResnet) -> _Value:
    """Walk the topology, emitting nodes and tracking shapes and tagged values."""
    x = _normalise(g, net.input)
    tags: dict[int, _Value] = {}
    for index, op, record in _fused_steps(net):
        if op.kind == "tag":
            tags[op.ref] = x
        elif op.kind == "skip":
            x = tags[op.ref]
        elif record is not None:
            if isinstance(record, ConvRecord):
                _check_channels(index, x, record.weight.shape[1])
            elif isinstance(record, AffineRecord):
                _check_channels(index, x, record.gamma.size)
            x = _emit_layer(g, x, record, tags.get(op.ref))
        if min(x.shape) < 1:
            raise _fail(index, f"output shape {x.shape} is empty")
    return x


def build_onnx(net: DlibResnet, source_sha256: str = "") -> onnx.ModelProto:
    """Build the ONNX model (opset 17) for a parsed network."""
    g = _GraphBuilder()
    out = _emit(g, net)
    if out.name != OUTPUT_NAME:
        raise ModelError("the dlib ResNet topology must end with the fc_ layer")
    rows, cols = net.input.rows, net.input.cols
    graph = helper.make_graph(
        g.nodes,
        "dlib_face_recognition_resnet_v1",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", 3, rows, cols])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", out.shape[0]])],
        g.initializers,
    )
    model = helper.make_model(
        graph,
        producer_name=PRODUCER,
        producer_version="1",
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = IR_VERSION
    meta = {"source": "dlib_face_recognition_resnet_model_v1", "source_sha256": source_sha256}
    meta["distance_threshold"] = repr(round(net.distance_threshold, 6))
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model, full_check=True)
    return model


def convert_dlib_resnet_bytes(data: bytes, name: str = "<dlib model>") -> bytes:
    """Convert the bytes of a dlib face-recognition ResNet ``.dat`` file to ONNX bytes."""
    net = parse_dlib_resnet(data, name)
    model = build_onnx(net, hashlib.sha256(data).hexdigest())
    return bytes(model.SerializeToString(deterministic=True))


def convert_dlib_resnet(dat_path: Path, onnx_path: Path) -> None:
    """Convert a dlib face-recognition ResNet ``.dat`` file into a deterministic ONNX file."""
    try:
        data = dat_path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read dlib model {dat_path}: {exc}") from exc
    payload = convert_dlib_resnet_bytes(data, str(dat_path))
    tmp = onnx_path.with_name(onnx_path.name + ".tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, onnx_path)
