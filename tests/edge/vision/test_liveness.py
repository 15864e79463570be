"""Liveness: the head-turn challenge on a live (turning) head, a flat photo and a replay."""

from __future__ import annotations

import numpy as np
import pytest

from edge.liveness import Challenge, ChallengeConfig, HeadPose
from models.engine import FaceEngine
from tests.edge import videogen
from tests.edge.videogen import FaceCut
from tests.edge.vision.rig import Enrolled, VisionRig, answer_challenge

CONFIG = ChallengeConfig(steps=2, turn_deg=14, centre_deg=7, time_limit_s=8, baseline_frames=3)


def run(
    directions: tuple[str, ...], yaws: list[float], narrowing: bool = True, step_s: float = 0.1
) -> Challenge:
    """Feed ``yaws``; a face turned 10 degrees or more from the first is narrower if asked."""
    challenge = Challenge(directions, 0.0, CONFIG)  # type: ignore[arg-type]
    for i, yaw in enumerate(yaws):
        turned = narrowing and abs(yaw - yaws[0]) >= 10
        challenge.observe(HeadPose(yaw, 0.8 if turned else 1.0), i * step_s)
    return challenge


@pytest.mark.parametrize(
    ("directions", "yaws", "state", "reason"),
    [
        (("left", "right"), [0, 0, 0, 5, 16, 16, 3, 3, -15, -15], "passed", "turns_seen"),
        (("left", "left"), [0, 0, 0, 16, 16, 2, 2, 17, 17], "passed", "turns_seen"),
        (("left", "left"), [0, 0, 0, 16, 17, 18, 18], "pending", "waiting"),
        (("left", "right"), [0, 0, 0, 40, 0, 0, -40, 0], "pending", "waiting"),
        (("left", "right"), [0, 0, 0, -16, -16], "failed", "wrong_direction"),
        (("right", "left"), [0, 0, 0, -20, -20, 0, 0, -20, -20], "failed", "wrong_direction"),
        (("right", "left"), [0, 0, 0, -20, -20, 20, 20, 20], "pending", "waiting"),
        (("left", "right"), [0, 0, 0, 3, -3, 4, 2, 5], "pending", "waiting"),
        (("left", "right"), [10, 10, 10, 20, 26, 26, 12, 12, -5, -5], "passed", "turns_seen"),
        (("left", "right"), [0] * 3 + [2] * 100, "failed", "timeout"),
    ],
)
def test_challenge_table(
    directions: tuple[str, ...], yaws: list[float], state: str, reason: str
) -> None:
    challenge = run(directions, yaws)
    assert (challenge.state, challenge.reason) == (state, reason)


def test_yaw_without_narrowing_is_not_a_turn() -> None:
    challenge = run(("left", "right"), [0, 0, 0, 20, 20, 0, 0, -20, -20], narrowing=False)
    assert (challenge.state, challenge.reason) == ("pending", "waiting")


def test_pose_from_landmarks_narrows_when_turned() -> None:
    frontal = np.array([[40, 50], [80, 50], [60, 70], [45, 90], [75, 90]], np.float32)
    turned = frontal.copy()
    turned[:, 0] = 60 + (turned[:, 0] - 60) * 0.8
    turned[2, 0] -= 12
    front, side = HeadPose.from_landmarks(frontal), HeadPose.from_landmarks(turned)
    assert side.aspect < front.aspect * 0.85 and abs(side.yaw_deg - front.yaw_deg) > 14


def test_challenge_expires_without_frames() -> None:
    challenge = run(("left",), [0, 0, 0])
    assert challenge.expire(5.0) == "pending"
    assert challenge.expire(9.0) == "failed" and challenge.reason == "timeout"


def test_live_turning_head_passes(engine: FaceEngine, face_cuts: list[FaceCut]) -> None:
    rig = VisionRig(engine, liveness="always")
    rig.enrol(Enrolled("resident-0"), face_cuts[0])
    decisions = answer_challenge(rig, face_cuts[0])
    assert [(d.verdict.decision, d.liveness) for d in decisions] == [("granted", "passed")]


def test_flat_photo_fails(engine: FaceEngine, face_cuts: list[FaceCut]) -> None:
    rig = VisionRig(engine, liveness="always")
    rig.enrol(Enrolled("resident-0"), face_cuts[0])
    frames = list(videogen.flat_photo(face_cuts[0], frames=70)) + list(videogen.empty_scene(25))
    decisions = rig.feed(frames)
    assert [(d.verdict.decision, d.verdict.reason, d.liveness) for d in decisions] == [
        ("denied", "liveness_failed", "failed")
    ]


def test_replayed_clip_passes_only_when_it_happens_to_match(
    engine: FaceEngine, face_cuts: list[FaceCut]
) -> None:
    recorder = VisionRig(engine, liveness="always")
    recorder.enrol(Enrolled("resident-0"), face_cuts[0])
    first = list(videogen.turning_head(face_cuts[0], []))
    recorder.feed(first)
    recorded_turns = recorder.prompts[-1]
    turns = [35.0 if d == "left" else -35.0 for d in recorded_turns]
    clip = list(videogen.turning_head(face_cuts[0], turns)) + list(videogen.empty_scene(25))
    replay = VisionRig(engine, liveness="always")
    replay.enrol(Enrolled("resident-0"), face_cuts[0])
    decisions = replay.feed(clip)
    expected = "passed" if replay.prompts[-1] == recorded_turns else "failed"
    assert [d.liveness for d in decisions] == [expected]


def test_visitors_need_liveness_residents_do_not(
    engine: FaceEngine, face_cuts: list[FaceCut]
) -> None:
    rig = VisionRig(engine, liveness="visitors")
    rig.enrol(Enrolled("visitor-1", "visitor"), face_cuts[1])
    rig.enrol(Enrolled("resident-0"), face_cuts[0])
    photo = list(videogen.flat_photo(face_cuts[1], frames=70)) + list(videogen.empty_scene(25))
    walk = list(videogen.walk_up(face_cuts[0], 30)) + list(videogen.empty_scene(25))
    decisions = rig.feed(photo + walk)
    assert [(d.vote.person_id, d.verdict.decision, d.liveness) for d in decisions] == [
        ("visitor-1", "denied", "failed"),
        ("resident-0", "granted", "not_required"),
    ]
