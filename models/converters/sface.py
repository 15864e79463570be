"""Clean the SFace ONNX file shipped by OpenCV Zoo so that any ONNX Runtime accepts it.

The int8 block-quantised file lists every weight as a graph input as well; the conv and fc
weights among them are fed by nothing (their data lives in dequantising nodes), which some
ONNX Runtime versions refuse. The graph's real input is ``data``; the other inputs and the
initialisers no node reads are removed, the int8 weights are dequantised once here rather
than on every run, and PRelu becomes faster element-wise ops (see ``prelu.py``).
"""

from __future__ import annotations

import onnx

from models.converters.dequantize import fold_constant_dequantize
from models.converters.prelu import expand_prelu
from models.errors import ModelError

_REAL_INPUT = "data"


def clean_sface(model_bytes: bytes) -> bytes:
    """The SFace model with every graph input except ``data`` removed, serialised."""
    try:
        model = onnx.load_from_string(model_bytes)
    except Exception as exc:  # protobuf raises DecodeError, onnx raises its own types
        raise ModelError(f"SFace model does not parse: {exc}") from exc
    graph = model.graph
    kept = [value for value in graph.input if value.name == _REAL_INPUT]
    if len(kept) != 1:
        raise ModelError(f"SFace model has no graph input named {_REAL_INPUT!r}")
    used = {name for node in graph.node for name in node.input if name}
    produced = {name for node in graph.node for name in node.output}
    initialised = {init.name for init in graph.initializer}
    if unfed := used - produced - initialised - {_REAL_INPUT}:
        raise ModelError(f"SFace model reads tensors nothing provides: {sorted(unfed)[:5]}")
    del graph.input[:]
    graph.input.extend(kept)
    for init in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(init)
    fold_constant_dequantize(model)
    expand_prelu(model)
    onnx.checker.check_model(model)
    serialised: bytes = model.SerializeToString(deterministic=True)
    return serialised
