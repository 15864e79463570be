"""Associate faces across frames so one person walking up is one track, and one decision.

Greedy association by descending IoU, falling back to centre distance (relative to the box
size) for small fast-moving faces whose boxes no longer overlap. A track unseen for
``max_age_s`` is closed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from models.engine import Face
from models.types import FloatArray


class TrackerConfig(BaseModel):
    """How faces are linked from frame to frame."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_iou: float = Field(default=0.2, ge=0, le=1, description="Overlap that links two boxes.")
    max_centre_shift: float = Field(
        default=0.6, ge=0, description="Else: centre shift, in box widths, that still links."
    )
    max_age_s: float = Field(default=1.5, gt=0, description="Unseen this long: the track ends.")
    max_observations: int = Field(default=30, ge=1, description="Most recent faces kept.")


@dataclass(frozen=True)
class Observation:
    """One face of a track, with when it was seen and the frame it came from."""

    face: Face
    at_s: float
    frame_sequence: int


@dataclass
class Track:
    """One person's face followed over frames."""

    track_id: str
    started_s: float
    observations: list[Observation] = field(default_factory=list)
    decided: bool = False

    @property
    def last(self) -> Observation:
        """The most recent observation."""
        return self.observations[-1]

    @property
    def box(self) -> FloatArray:
        """The most recent box (x1, y1, x2, y2)."""
        return self.last.face.xyxy


def iou(a: FloatArray, b: FloatArray) -> float:
    """Intersection over union of two x1, y1, x2, y2 boxes."""
    w = max(0.0, float(min(a[2], b[2]) - max(a[0], b[0])))
    h = max(0.0, float(min(a[3], b[3]) - max(a[1], b[1])))
    inter = w * h
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0


def centre_shift(a: FloatArray, b: FloatArray) -> float:
    """Distance between box centres, in widths of the larger box."""
    ca, cb = (a[:2] + a[2:]) / 2, (b[:2] + b[2:]) / 2
    width = max(float(a[2] - a[0]), float(b[2] - b[0]), 1.0)
    return float(np.linalg.norm(ca - cb)) / width


class Tracker:
    """Keeps the open tracks of one camera."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.tracks: list[Track] = []

    def update(self, faces: list[Face], now_s: float, frame_sequence: int = 0) -> list[Track]:
        """Link ``faces`` to open tracks (new tracks for the rest); the tracks seen now."""
        self.expire(now_s)
        pairs = self._candidate_pairs(faces)
        used_faces: set[int] = set()
        used_tracks: set[int] = set()
        seen: list[Track] = []
        for _, t, f in pairs:
            if t in used_tracks or f in used_faces:
                continue
            used_tracks.add(t)
            used_faces.add(f)
            seen.append(self._extend(self.tracks[t], faces[f], now_s, frame_sequence))
        for f, face in enumerate(faces):
            if f not in used_faces:
                track = Track(track_id=f"t-{secrets.token_hex(6)}", started_s=now_s)
                self.tracks.append(track)
                seen.append(self._extend(track, face, now_s, frame_sequence))
        return seen

    def expire(self, now_s: float) -> list[Track]:
        """Close and return the tracks unseen for ``max_age_s``."""
        gone = [t for t in self.tracks if now_s - t.last.at_s > self.config.max_age_s]
        self.tracks = [t for t in self.tracks if t not in gone]
        return gone

    def _candidate_pairs(self, faces: list[Face]) -> list[tuple[float, int, int]]:
        """(cost, track index, face index) of every linkable pair, cheapest first."""
        pairs = []
        for t, track in enumerate(self.tracks):
            for f, face in enumerate(faces):
                overlap = iou(track.box, face.xyxy)
                shift = centre_shift(track.box, face.xyxy)
                if overlap >= self.config.min_iou or shift <= self.config.max_centre_shift:
                    pairs.append((shift - overlap, t, f))
        pairs.sort(key=lambda item: item[0])
        return pairs

    def _extend(self, track: Track, face: Face, now_s: float, frame_sequence: int) -> Track:
        track.observations.append(Observation(face, now_s, frame_sequence))
        del track.observations[: -self.config.max_observations]
        return track
