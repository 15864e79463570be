"""Active liveness: ask for a random sequence of head turns and read them from the landmarks.

A live head turning changes its yaw (the nose moves relative to the eyes) and narrows the face
(the eyes come closer while eyes-to-mouth stays); a printed photo moved, tilted or scaled in
front of the camera does neither, apart from landmark noise, which a median over three frames,
the narrowing required with the yaw, and the return to the front between turns keep out. A
replayed clip turns the way it was recorded, so the directions are drawn at random per track
and a turn the wrong way fails at once: a replay of ``steps`` turns passes with probability
``2 ** -steps``.

Directions are in image terms: ``left`` is a positive yaw (the face turns towards the image's
left, which is the person's own right); the prompt shown to the person says which.
"""

from __future__ import annotations

import secrets
import statistics
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from models.quality import estimate_pose_deg
from models.types import FloatArray

Direction = Literal["left", "right"]
ChallengeState = Literal["pending", "passed", "failed"]
_DIRECTIONS: tuple[Direction, Direction] = ("left", "right")
_SMOOTHING = 3
"""Pose is the median of the last frames: a one-frame landmark glitch is not a turn."""


@dataclass(frozen=True)
class HeadPose:
    """What the challenge reads from one face's five landmarks."""

    yaw_deg: float
    aspect: float
    """Inter-eye distance over the eyes-to-mouth distance; a turn makes it smaller."""

    @classmethod
    def from_landmarks(cls, landmarks_xy: FloatArray) -> HeadPose:
        """The pose of a face from its landmarks (image pixels)."""
        yaw_deg, _ = estimate_pose_deg(landmarks_xy)
        eyes = float(np.linalg.norm(landmarks_xy[1] - landmarks_xy[0]))
        drop = float(np.linalg.norm(landmarks_xy[3:].mean(axis=0) - landmarks_xy[:2].mean(axis=0)))
        return cls(yaw_deg, eyes / drop if drop > 0 else 0.0)


class ChallengeConfig(BaseModel):
    """How demanding the head-turn challenge is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: int = Field(default=2, ge=1, le=4, description="Turns asked for, each left or right.")
    turn_deg: float = Field(default=14, gt=0, le=60, description="Yaw change that counts a turn.")
    centre_deg: float = Field(default=7, gt=0, description="Back within this of the start.")
    time_limit_s: float = Field(default=8.0, gt=0, description="All turns within this time.")
    min_narrowing: float = Field(
        default=0.12, ge=0, lt=1, description="A turn must also narrow the face by this share."
    )
    baseline_frames: int = Field(default=3, ge=1, description="Frames giving the start pose.")


@dataclass
class Challenge:
    """One track's challenge and how far it has got."""

    directions: tuple[Direction, ...]
    issued_s: float
    config: ChallengeConfig
    state: ChallengeState = "pending"
    reason: str = "waiting"
    _baseline: list[HeadPose] = field(default_factory=list)
    _recent: list[HeadPose] = field(default_factory=list)
    _step: int = 0
    _returning: bool = False

    @classmethod
    def issue(cls, config: ChallengeConfig, now_s: float) -> Challenge:
        """A new challenge with random directions."""
        directions = tuple(_DIRECTIONS[secrets.randbelow(2)] for _ in range(config.steps))
        return cls(directions=directions, issued_s=now_s, config=config)

    def observe(self, pose: HeadPose, at_s: float) -> ChallengeState:
        """Feed the pose of the track's latest face; returns the state after it."""
        if self.state != "pending":
            return self.state
        if at_s - self.issued_s > self.config.time_limit_s:
            return self._finish("failed", "timeout")
        if len(self._baseline) < self.config.baseline_frames:
            self._baseline.append(pose)
            return self.state
        self._recent = [*self._recent[-(_SMOOTHING - 1) :], pose]
        offset = _median_yaw(self._recent) - _median_yaw(self._baseline)
        if self._returning:
            self._returning = abs(offset) > self.config.centre_deg
            return self.state
        narrowed = _median_aspect(self._recent) <= _median_aspect(self._baseline) * (
            1 - self.config.min_narrowing
        )
        if abs(offset) < self.config.turn_deg or not narrowed:
            return self.state
        turned: Direction = "left" if offset > 0 else "right"
        if turned != self.directions[self._step]:
            return self._finish("failed", "wrong_direction")
        self._step += 1
        self._returning = True
        if self._step == len(self.directions):
            return self._finish("passed", "turns_seen")
        return self.state

    def expire(self, now_s: float) -> ChallengeState:
        """Fail a pending challenge whose time is up (the track may have stopped moving)."""
        if self.state == "pending" and now_s - self.issued_s > self.config.time_limit_s:
            self._finish("failed", "timeout")
        return self.state

    def _finish(self, state: ChallengeState, reason: str) -> ChallengeState:
        self.state, self.reason = state, reason
        return state


def _median_yaw(poses: list[HeadPose]) -> float:
    return statistics.median(p.yaw_deg for p in poses)


def _median_aspect(poses: list[HeadPose]) -> float:
    return statistics.median(p.aspect for p in poses)
