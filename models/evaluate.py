"""Verification accuracy over a folder of labelled photos: ``DIR/<identity>/<image>``."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from models.engine import FaceEngine
from models.errors import FaceEngineError
from models.images import load_image
from models.types import FloatArray

log = logging.getLogger(__name__)

_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass(frozen=True)
class ScoreReport:
    """Accuracy of one scorer (an embedder alone, or the fusion) at one threshold."""

    scorer: str
    threshold: float
    genuine_pairs: int
    impostor_pairs: int
    false_accepts: int
    false_rejects: int
    lowest_genuine: float
    highest_impostor: float
    roc: list[dict[str, float]] = field(default_factory=list)
    """Points {threshold, far, frr} over the observed score range."""

    @property
    def far(self) -> float:
        """False accept rate."""
        return self.false_accepts / self.impostor_pairs if self.impostor_pairs else 0.0

    @property
    def frr(self) -> float:
        """False reject rate."""
        return self.false_rejects / self.genuine_pairs if self.genuine_pairs else 0.0


@dataclass(frozen=True)
class EvaluationReport:
    """Evaluation of an engine on a folder."""

    images: int
    identities: int
    skipped: dict[str, str]
    """Image path → why it was left out (unreadable, no face)."""
    scores: list[ScoreReport]


def load_dataset(root: Path) -> list[tuple[str, Path]]:
    """(identity, image path) pairs under ``root``, sorted."""
    if not root.is_dir():
        raise FaceEngineError(f"{root} is not a folder of <identity>/<image> files")
    return [
        (folder.name, image)
        for folder in sorted(p for p in root.iterdir() if p.is_dir())
        for image in sorted(folder.iterdir())
        if image.suffix.lower() in _IMAGE_SUFFIXES
    ]


def evaluate(engine: FaceEngine, root: Path, progress: bool = True) -> EvaluationReport:
    """Embed the largest face of every image, then score every pair."""
    labels: list[str] = []
    templates: list[FloatArray] = []
    skipped: dict[str, str] = {}
    for identity, path in tqdm(load_dataset(root), desc="embedding", disable=not progress):
        try:
            faces = engine.analyze(load_image(path))
        except FaceEngineError as exc:
            skipped[str(path)] = str(exc)
            continue
        if not faces:
            skipped[str(path)] = "no face found"
            continue
        labels.append(identity)
        templates.append(faces[0].template)
    pairs = list(itertools.combinations(range(len(labels)), 2))
    same = np.array([labels[i] == labels[j] for i, j in pairs], dtype=bool)
    single = len(engine.embedders) == 1
    overall = engine.embedders[0].embedder.spec.name if single else "fused"
    scorers = {
        overall: (
            [engine.similarity(templates[i], templates[j]) for i, j in pairs],
            engine.threshold,
        )
    }
    if not single:
        for item in engine.embedders:
            name = item.embedder.spec.name
            values = [
                engine.component_similarities(templates[i], templates[j])[name] for i, j in pairs
            ]
            scorers[name] = (values, item.threshold)
    reports = [_score(name, np.array(v), same, t) for name, (v, t) in scorers.items()]
    return EvaluationReport(len(labels), len(set(labels)), skipped, reports)


def _score(name: str, scores: FloatArray, same: np.ndarray, threshold: float) -> ScoreReport:
    genuine, impostor = scores[same], scores[~same]
    grid = np.unique(np.round(scores, 3))
    roc = [
        {
            "threshold": float(t),
            "far": float((impostor >= t).mean()) if len(impostor) else 0.0,
            "frr": float((genuine < t).mean()) if len(genuine) else 0.0,
        }
        for t in grid
    ]
    return ScoreReport(
        scorer=name,
        threshold=threshold,
        genuine_pairs=len(genuine),
        impostor_pairs=len(impostor),
        false_accepts=int((impostor >= threshold).sum()),
        false_rejects=int((genuine < threshold).sum()),
        lowest_genuine=float(genuine.min()) if len(genuine) else float("nan"),
        highest_impostor=float(impostor.max()) if len(impostor) else float("nan"),
        roc=roc,
    )
