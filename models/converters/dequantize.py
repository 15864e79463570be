"""Fold ``DequantizeLinear`` nodes over constant weights into float32 initialisers.

OpenCV Zoo's int8 "block-quantised" files keep their weights as int8 and dequantise them on
every run; ONNX Runtime does not fold these nodes, so each inference pays for the dequantising
again (for SFace most of its time). Doing it once at build time gives the same numbers faster.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from models.errors import ModelError


def _expand(values: np.ndarray, like: np.ndarray, axis: int, block_size: int) -> np.ndarray:
    """``values`` (scales or zero points) broadcast to the shape of the quantised ``like``."""
    if values.size == 1:
        return values.reshape(())
    if block_size > 0:
        repeated = np.repeat(values, block_size, axis=axis)
        return np.take(repeated, np.arange(like.shape[axis]), axis=axis)
    shape = [1] * like.ndim
    shape[axis] = values.size
    return values.reshape(shape)


def _dequantize(node: onnx.NodeProto, constants: dict[str, np.ndarray]) -> np.ndarray:
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    quantised = constants[node.input[0]]
    axis = int(attributes.get("axis", 1)) % max(quantised.ndim, 1)
    block_size = int(attributes.get("block_size", 0))
    scale = _expand(constants[node.input[1]].astype(np.float32), quantised, axis, block_size)
    zero = np.zeros((), np.float32)
    if len(node.input) > 2 and node.input[2]:
        zero = _expand(constants[node.input[2]].astype(np.float32), quantised, axis, block_size)
    result: np.ndarray = ((quantised.astype(np.float32) - zero) * scale).astype(np.float32)
    return result


def fold_constant_dequantize(model: onnx.ModelProto) -> int:
    """Replace every DequantizeLinear of constants by its float32 result; returns the count."""
    graph = model.graph
    constants = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    folded = [
        node
        for node in graph.node
        if node.op_type == "DequantizeLinear" and all(n in constants for n in node.input if n)
    ]
    for node in folded:
        try:
            value = _dequantize(node, constants)
        except (ValueError, IndexError) as exc:
            raise ModelError(f"cannot fold {node.name or node.output[0]}: {exc}") from exc
        graph.initializer.append(numpy_helper.from_array(value, node.output[0]))
        graph.node.remove(node)
    used = {name for node in graph.node for name in node.input}
    for init in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(init)
    return len(folded)
