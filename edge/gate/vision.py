"""One camera's decisions: frame → faces → tracks → liveness → vote → policy.

``GateVision.process`` is synchronous and free of I/O so that tests and benchmarks drive it
frame by frame; the node runs one per camera on the camera's worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from edge.capture.camera import Frame
from edge.contract.events import Liveness
from edge.gate.policy import AccessRequest, PersonRecord, Policy, Verdict
from edge.liveness import AttackDetector, Challenge, Direction, HeadPose, LivenessConfig
from edge.recognize.search import TemplateIndex
from edge.recognize.vote import VoteConfig, VoteResult, quality_weight, vote
from edge.track.tracker import Track, Tracker, TrackerConfig
from models.engine import Face, FaceEngine
from models.types import ImageRGB

log = logging.getLogger(__name__)

PersonLookup = Callable[[str], PersonRecord | None]
PromptCallback = Callable[[str, str, tuple[Direction, ...]], None]


class RecognitionConfig(BaseModel):
    """Tracking and voting."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    vote: VoteConfig = Field(default_factory=VoteConfig)


@dataclass(frozen=True)
class FaceDecision:
    """A decision on one track, with what the event and the evidence need."""

    camera_id: str
    gate_id: str
    track_id: str
    verdict: Verdict
    vote: VoteResult
    liveness: Liveness
    at: datetime
    evidence_rgb: ImageRGB | None


@dataclass
class _TrackState:
    best_weight: float = -1.0
    best_frame: ImageRGB | None = None
    challenge: Challenge | None = None
    attack_scores: list[float] = field(default_factory=list)


class GateVision:
    """Turns one camera's frames into at most one decision per track."""

    def __init__(
        self,
        engine: FaceEngine,
        index: TemplateIndex,
        people: PersonLookup,
        policy: Policy,
        config: tuple[RecognitionConfig, LivenessConfig],
        attack_detector: AttackDetector | None = None,
    ) -> None:
        self.engine, self.index, self.people, self.policy = engine, index, people, policy
        self.recognition, self.liveness = config
        self.attack_detector = attack_detector
        self.tracker = Tracker(self.recognition.tracker)
        self.on_prompt: PromptCallback | None = None
        self.analysis_errors = 0
        self._states: dict[str, _TrackState] = {}

    def process(self, frame: Frame) -> list[FaceDecision]:
        """Decisions made on this frame (usually none)."""
        now_s = frame.grabbed_monotonic_s
        decisions = [
            d
            for track in self.tracker.expire(now_s)
            if (d := self._close(track, frame)) is not None
        ]
        try:
            faces = self.engine.analyze(frame.image_rgb)
        except Exception:  # a frame the engine cannot handle must not stop the camera
            self.analysis_errors += 1
            log.exception("camera=%s event=analysis_failed", frame.camera_id)
            return decisions
        for track in self.tracker.update(faces, now_s, frame.sequence):
            if track.decided:
                continue
            self._observe(track, frame)
            decision = self._decide(track, frame, final=False)
            if decision is not None:
                decisions.append(decision)
        return decisions

    def _close(self, track: Track, frame: Frame) -> FaceDecision | None:
        state_known = track.track_id in self._states
        decision = None
        if state_known and not track.decided:
            decision = self._decide(track, frame, final=True)
        self._states.pop(track.track_id, None)
        return decision

    def _observe(self, track: Track, frame: Frame) -> None:
        state = self._states.setdefault(track.track_id, _TrackState())
        face = track.last.face
        weight = quality_weight(face.quality, self.recognition.vote)
        if weight > state.best_weight:
            state.best_weight, state.best_frame = weight, frame.image_rgb
        if self.liveness.requirement(frame.gate_id) == "never":
            return
        if state.challenge is None:
            state.challenge = Challenge.issue(self.liveness.challenge, track.started_s)
            self._prompt(frame.gate_id, track.track_id, state.challenge.directions)
        state.challenge.observe(
            HeadPose.from_landmarks(face.landmarks_xy), frame.grabbed_monotonic_s
        )
        if self.attack_detector is not None:
            chip = _crop(frame.image_rgb, face)
            state.attack_scores.append(self.attack_detector.attack_probability(chip))

    def _decide(self, track: Track, frame: Frame, final: bool) -> FaceDecision | None:
        faces = [o.face for o in track.observations]
        threshold = self.recognition.vote.threshold
        if threshold is None:
            threshold = self.engine.threshold
        result = vote(faces, self.index, threshold, self.recognition.vote)
        timed_out = final or frame.grabbed_monotonic_s - track.started_s > (
            self.recognition.vote.decide_within_s
        )
        if result.status in ("pending", "ambiguous"):
            if not timed_out:
                return None
            reason = "poor_quality" if result.status == "pending" else "ambiguous"
            return self._finish(track, frame, Verdict("unknown", reason), result, "not_checked")
        if result.status == "no_match":
            return self._finish(track, frame, Verdict("denied", "no_match"), result, "not_checked")
        person_id = str(result.person_id)
        person = self.people(person_id)
        liveness = self._liveness(track, frame, person, final)
        if liveness is None:
            return None
        request = AccessRequest(
            gate_id=frame.gate_id,
            method="face",
            at=frame.grabbed_at,
            person_id=person_id,
            person=person,
            liveness=liveness,
        )
        return self._finish(track, frame, self.policy.evaluate(request), result, liveness)

    def _liveness(
        self, track: Track, frame: Frame, person: PersonRecord | None, final: bool
    ) -> Liveness | None:
        """Liveness outcome, or None while the challenge is still running."""
        kind = person.person_kind if person is not None else None
        if not self.liveness.required_for(frame.gate_id, kind):
            return "not_required"
        state = self._states.get(track.track_id, _TrackState())
        if state.challenge is None:
            return "failed"
        expiry_s = float("inf") if final else frame.grabbed_monotonic_s
        outcome = state.challenge.expire(expiry_s)
        if outcome == "pending":
            return None
        attack = np.mean(state.attack_scores) if state.attack_scores else 0.0
        if outcome == "passed" and attack < self.liveness.pad.attack_threshold:
            return "passed"
        return "failed"

    def _finish(
        self, track: Track, frame: Frame, verdict: Verdict, result: VoteResult, liveness: Liveness
    ) -> FaceDecision:
        track.decided = True
        state = self._states.get(track.track_id, _TrackState())
        log.info(
            "gate=%s track=%s decision=%s reason=%s person=%s score=%s liveness=%s",
            frame.gate_id,
            track.track_id,
            verdict.decision,
            verdict.reason,
            result.person_id,
            None if result.score is None else round(result.score, 3),
            liveness,
        )
        return FaceDecision(
            camera_id=frame.camera_id,
            gate_id=frame.gate_id,
            track_id=track.track_id,
            verdict=verdict,
            vote=result,
            liveness=liveness,
            at=frame.grabbed_at,
            evidence_rgb=state.best_frame if state.best_frame is not None else frame.image_rgb,
        )

    def _prompt(self, gate_id: str, track_id: str, directions: tuple[Direction, ...]) -> None:
        log.info("gate=%s track=%s event=liveness_prompt turns=%s", gate_id, track_id, directions)
        if self.on_prompt is not None:
            self.on_prompt(gate_id, track_id, directions)


def _crop(image: ImageRGB, face: Face) -> ImageRGB:
    x1, y1, x2, y2 = (round(float(v)) for v in face.xyxy)
    height, width = image.shape[:2]
    crop: ImageRGB = image[max(0, y1) : min(height, y2), max(0, x1) : min(width, x2)]
    return crop
