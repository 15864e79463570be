"""Plug-in slot for a passive presentation-attack detection (PAD) model in ONNX.

No model ships with Anju. A site that holds one names its file in the configuration; it must
take one aligned RGB face chip (NCHW float32, values scaled by ``scale`` after subtracting
``mean``) and return, as its first output, either one attack probability or two logits/scores
``[live, attack]``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from models.errors import ModelError
from models.sessions import RuntimeConfig, create_session
from models.types import ImageRGB

log = logging.getLogger(__name__)


class PadConfig(BaseModel):
    """An optional ONNX presentation-attack model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_path: Path | None = Field(default=None, description="ONNX file; unset: no PAD model.")
    input_size: int = Field(default=112, ge=16, description="Square chip side the model takes.")
    mean: float = Field(default=127.5, description="Subtracted from each pixel value.")
    scale: float = Field(default=1 / 127.5, gt=0, description="Then multiplied by this.")
    attack_threshold: float = Field(
        default=0.5, ge=0, le=1, description="Mean attack probability at or above: an attack."
    )


class AttackDetector(Protocol):
    """Anything that scores a face chip for presentation attack, 0 (live) to 1 (attack)."""

    def attack_probability(self, chip: ImageRGB) -> float:
        """Probability that ``chip`` shows a photo, screen or mask rather than a live face."""
        ...


class OnnxAttackDetector:
    """A PAD model run with ONNX Runtime."""

    def __init__(self, config: PadConfig, runtime: RuntimeConfig) -> None:
        if config.model_path is None:
            raise ModelError("no PAD model configured")
        if not config.model_path.is_file():
            raise ModelError(f"PAD model {config.model_path} does not exist")
        self.config = config
        self._session = create_session(config.model_path, runtime)
        self._input = self._session.get_inputs()[0].name

    def attack_probability(self, chip: ImageRGB) -> float:
        """Attack probability of one chip, resized to the model's input."""
        import cv2

        side = self.config.input_size
        resized = cv2.resize(chip, (side, side), interpolation=cv2.INTER_AREA)
        tensor = (resized.astype(np.float32) - self.config.mean) * self.config.scale
        output = self._session.run(None, {self._input: tensor.transpose(2, 0, 1)[None]})[0]
        values = np.asarray(output, np.float32).reshape(-1)
        if values.size == 1:
            return float(np.clip(values[0], 0, 1))
        shifted = np.exp(values[:2] - values[:2].max())
        return float(shifted[1] / shifted.sum())


def load_attack_detector(config: PadConfig, runtime: RuntimeConfig) -> AttackDetector | None:
    """The configured PAD model, or None when none is configured; ModelError when unusable."""
    if config.model_path is None:
        return None
    detector = OnnxAttackDetector(config, runtime)
    log.info("pad_model=%s event=loaded", config.model_path)
    return detector
