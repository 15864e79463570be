"""A quality-weighted, multi-frame vote over one track's faces against the gallery.

Faces too small, blurred or turned away are left out; each remaining face votes for its best
match (or for "no match" below the engine's threshold) with a weight from its quality, and the
vote is searched again at decision time so that a revocation applied mid-track counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edge.recognize.search import TemplateIndex
from models.engine import Face
from models.quality import FaceQuality

VoteStatus = Literal["match", "no_match", "ambiguous", "pending", "poor_quality"]
_NO_MATCH = ""


class VoteConfig(BaseModel):
    """Which faces may vote and how many votes a decision needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_inter_eye_px: float = Field(default=28, ge=0, description="Smaller faces do not vote.")
    min_sharpness: float = Field(default=15, ge=0, description="Laplacian variance; below: blur.")
    max_abs_yaw_deg: float = Field(default=35, gt=0, le=90, description="More turned: no vote.")
    max_abs_pitch_deg: float = Field(default=30, gt=0, le=90, description="More tilted: no vote.")
    min_votes: int = Field(default=3, ge=1, description="Usable faces before a match decides.")
    no_match_votes: int = Field(
        default=6, ge=1, description="Usable faces before 'no match' decides (people walk closer)."
    )
    min_agreement: float = Field(
        default=0.6, gt=0.5, le=1, description="Weighted share the winner needs."
    )
    decide_within_s: float = Field(
        default=4.0, gt=0, description="A track still undecided this long gets 'unknown'."
    )
    threshold: float | None = Field(
        default=None, ge=-1, le=1, description="Match similarity; the engine's if unset."
    )


@dataclass(frozen=True)
class VoteResult:
    """Outcome of a vote: who, how sure, from how many faces."""

    status: VoteStatus
    person_id: str | None = None
    score: float | None = None
    votes: int = 0
    agreement: float = 0.0


def quality_weight(quality: FaceQuality, config: VoteConfig) -> float:
    """Vote weight of a face in 0..1; 0 when it fails a quality limit."""
    if (
        quality.inter_eye_px < config.min_inter_eye_px
        or quality.sharpness < config.min_sharpness
        or abs(quality.yaw_deg) > config.max_abs_yaw_deg
        or abs(quality.pitch_deg) > config.max_abs_pitch_deg
    ):
        return 0.0
    size = min(1.0, quality.inter_eye_px / (2 * max(config.min_inter_eye_px, 1.0)))
    sharp = min(1.0, quality.sharpness / (4 * max(config.min_sharpness, 1.0)))
    pose = math.cos(math.radians(quality.yaw_deg)) * math.cos(math.radians(quality.pitch_deg))
    return max(1e-3, size * (0.5 + 0.5 * sharp) * pose)


def vote(
    faces: Sequence[Face], index: TemplateIndex, threshold: float, config: VoteConfig
) -> VoteResult:
    """The vote of ``faces`` (one track) against ``index``; ``pending`` until enough faces."""
    weights: dict[str, float] = {}
    scores: dict[str, list[tuple[float, float]]] = {}
    usable = 0
    for face in faces:
        weight = quality_weight(face.quality, config)
        if weight <= 0:
            continue
        usable += 1
        best = index.search(face.template, k=1)
        person = best[0][0] if best and best[0][1] >= threshold else _NO_MATCH
        weights[person] = weights.get(person, 0.0) + weight
        if best:
            scores.setdefault(person, []).append((weight, best[0][1]))
    if usable < config.min_votes:
        return VoteResult("pending", votes=usable)
    winner = max(weights, key=lambda p: weights[p])
    agreement = weights[winner] / sum(weights.values())
    pairs = scores.get(winner, [])
    score = sum(w * s for w, s in pairs) / sum(w for w, _ in pairs) if pairs else None
    if agreement < config.min_agreement:
        status: VoteStatus = "ambiguous" if usable >= config.no_match_votes else "pending"
        return VoteResult(status, votes=usable, agreement=agreement)
    if winner == _NO_MATCH:
        status = "no_match" if usable >= config.no_match_votes else "pending"
        return VoteResult(status, score=score, votes=usable, agreement=agreement)
    return VoteResult("match", winner, score, usable, agreement)
