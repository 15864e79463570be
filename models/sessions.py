"""ONNX Runtime sessions built from the runtime configuration (execution providers, threads)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import onnxruntime as ort
from pydantic import BaseModel, ConfigDict, Field

from models.errors import ModelError

log = logging.getLogger(__name__)

Provider = Literal["cpu", "cuda", "openvino"]

_ORT_PROVIDER_NAMES: dict[str, str] = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
}


class RuntimeConfig(BaseModel):
    """How ONNX models are executed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    providers: tuple[Provider, ...] = Field(
        default=("cpu",),
        description="Execution providers in order of preference; 'cpu' is always appended.",
    )
    intra_op_threads: int = Field(
        default=1, ge=0, description="Threads per operator; 0 lets ONNX Runtime decide."
    )


def available_providers(config: RuntimeConfig) -> list[str]:
    """ONNX Runtime provider names for ``config``, failing on one that is not installed."""
    installed = set(ort.get_available_providers())
    names: list[str] = []
    for provider in (*config.providers, "cpu"):
        name = _ORT_PROVIDER_NAMES[provider]
        if name not in installed:
            raise ModelError(
                f"execution provider {provider!r} is not installed "
                f"(installed: {', '.join(sorted(installed))})"
            )
        if name not in names:
            names.append(name)
    return names


def create_session(path: Path, config: RuntimeConfig) -> ort.InferenceSession:
    """Open ``path`` as an inference session configured by ``config``."""
    if not path.is_file():
        raise ModelError(f"model file not found: {path} (run 'anju models build')")
    options = ort.SessionOptions()
    options.intra_op_num_threads = config.intra_op_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    # Several sessions run one after another on few cores: idle threads must not spin.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=available_providers(config)
        )
    except Exception as exc:  # onnxruntime raises several unrelated exception types
        raise ModelError(f"cannot load model {path}: {exc}") from exc
    log.debug("session %s on %s", path.name, session.get_providers())
    return session
