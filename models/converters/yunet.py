"""Make the YuNet int8 file shipped by OpenCV Zoo run on current ONNX Runtime, at any size.

Two changes, neither altering what it computes:
- its int8 weights are dequantised once here instead of on every run (some of those nodes also
  carry a ``block_size`` with a one-element scale, which ONNX Runtime >= 1.20 rejects);
- its input is fixed at 640x640; height and width become symbolic so that a frame can run at
  its own size (padded to a multiple of 32) instead of being letterboxed into 640x640.
"""

from __future__ import annotations

import onnx

from models.converters.dequantize import fold_constant_dequantize
from models.errors import ModelError


def clean_yunet(model_bytes: bytes) -> bytes:
    """The repaired YuNet model, serialised."""
    try:
        model = onnx.load_from_string(model_bytes)
    except Exception as exc:  # protobuf raises DecodeError, onnx raises its own types
        raise ModelError(f"YuNet model does not parse: {exc}") from exc
    fold_constant_dequantize(model)
    if len(model.graph.input) != 1:
        raise ModelError("YuNet model must have exactly one graph input")
    dims = model.graph.input[0].type.tensor_type.shape.dim
    if len(dims) != 4:
        raise ModelError("YuNet model input must be NCHW")
    for dim, name in zip(dims[2:], ("height", "width"), strict=True):
        dim.ClearField("dim_value")
        dim.dim_param = name
    for output in model.graph.output:
        for dim in output.type.tensor_type.shape.dim:
            dim.ClearField("dim_value")
            dim.dim_param = dim.dim_param or "cells"
    del model.graph.value_info[:]
    onnx.checker.check_model(model)
    serialised: bytes = model.SerializeToString(deterministic=True)
    return serialised
