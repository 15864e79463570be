"""Detectors by name: each factory takes the ONNX sessions of its pack entry and the settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import onnxruntime as ort
from pydantic import BaseModel

from models.detectors.mtcnn import MtcnnConfig, MtcnnDetector
from models.detectors.scrfd import ScrfdConfig, ScrfdDetector
from models.detectors.yunet import YuNetConfig, YuNetDetector
from models.errors import ModelError
from models.types import Detector

Factory = Callable[[list[ort.InferenceSession], float, float | None], Detector]
_FACTORIES: dict[str, Factory] = {}
Tuned = TypeVar("Tuned", bound=BaseModel)


def register(name: str) -> Callable[[Factory], Factory]:
    """Decorator adding a detector factory under ``name``."""

    def add(factory: Factory) -> Factory:
        _FACTORIES[name] = factory
        return factory

    return add


def _with_score(config: Tuned, score: float | None) -> Tuned:
    """``config`` with its score threshold replaced when one is given."""
    return config if score is None else config.model_copy(update={"score_threshold": score})


@register("yunet")
def _yunet(sessions: list[ort.InferenceSession], min_px: float, score: float | None) -> Detector:
    config = _with_score(YuNetConfig(min_face_px=min_px), score)
    return YuNetDetector(sessions[0], config)


@register("mtcnn")
def _mtcnn(sessions: list[ort.InferenceSession], min_px: float, score: float | None) -> Detector:
    config = _with_score(MtcnnConfig(min_face_px=max(min_px, 12)), score)
    pnet, rnet, onet = sessions
    return MtcnnDetector(pnet, rnet, onet, config)


@register("scrfd")
def _scrfd(sessions: list[ort.InferenceSession], min_px: float, score: float | None) -> Detector:
    config = _with_score(ScrfdConfig(min_face_px=min_px), score)
    return ScrfdDetector(sessions[0], config)


def build_detector(
    name: str,
    sessions: list[ort.InferenceSession],
    min_face_px: float,
    score_threshold: float | None = None,
) -> Detector:
    """The detector called ``name``; ModelError listing the valid names otherwise."""
    if name not in _FACTORIES:
        raise ModelError(f"unknown detector {name!r} (valid: {', '.join(sorted(_FACTORIES))})")
    return _FACTORIES[name](sessions, min_face_px, score_threshold)
