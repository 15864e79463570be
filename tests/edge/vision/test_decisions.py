"""Frames → tracks → vote → policy on generated video: one decision per walk-up."""

from __future__ import annotations

from models.engine import FaceEngine
from tests.edge import videogen
from tests.edge.videogen import FaceCut
from tests.edge.vision.rig import Enrolled, VisionRig


def test_resident_walking_up_is_granted_once(rig: VisionRig, face_cuts: list[FaceCut]) -> None:
    rig.enrol(Enrolled("resident-0"), face_cuts[0])
    decisions = rig.feed(list(videogen.walk_up(face_cuts[0], 20)) + list(videogen.empty_scene(25)))
    assert len(decisions) == 1
    decision = decisions[0]
    assert (decision.verdict.decision, decision.verdict.reason) == ("granted", "match")
    assert decision.vote.person_id == "resident-0" and decision.liveness == "not_required"
    assert decision.vote.score is not None and decision.vote.score > 0.9
    assert decision.evidence_rgb is not None


def test_stranger_walking_up_is_denied_once(rig: VisionRig, face_cuts: list[FaceCut]) -> None:
    rig.enrol(Enrolled("resident-0"), face_cuts[0])
    decisions = rig.feed(list(videogen.walk_up(face_cuts[1], 20)) + list(videogen.empty_scene(25)))
    assert [(d.verdict.decision, d.verdict.reason) for d in decisions] == [("denied", "no_match")]
    assert decisions[0].vote.person_id is None


def test_two_walk_ups_are_two_tracks(rig: VisionRig, face_cuts: list[FaceCut]) -> None:
    rig.enrol(Enrolled("resident-0"), face_cuts[0])
    one = list(videogen.walk_up(face_cuts[0], 20)) + list(videogen.empty_scene(25))
    decisions = rig.feed(one + one)
    assert [d.verdict.decision for d in decisions] == ["granted", "granted"]
    assert decisions[0].track_id != decisions[1].track_id


def test_revoked_resident_is_denied(rig: VisionRig, face_cuts: list[FaceCut]) -> None:
    rig.enrol(Enrolled("resident-0"), face_cuts[0])
    rig.index.remove("resident-0")
    del rig.people["resident-0"]
    decisions = rig.feed(list(videogen.walk_up(face_cuts[0], 20)) + list(videogen.empty_scene(25)))
    assert [d.verdict.decision for d in decisions] == ["denied"]


def test_empty_scene_decides_nothing(rig: VisionRig) -> None:
    assert rig.feed(videogen.empty_scene(20)) == []


def test_corrupt_frame_does_not_stop_decisions(
    engine: FaceEngine, face_cuts: list[FaceCut]
) -> None:
    rig = VisionRig(engine)
    rig.enrol(Enrolled("resident-0"), face_cuts[0])
    frames = list(videogen.walk_up(face_cuts[0], 20))
    frames[3] = frames[3][:0]  # an empty array, as a broken decoder might hand over
    decisions = rig.feed(frames + list(videogen.empty_scene(25)))
    assert [d.verdict.decision for d in decisions] == ["granted"]
    assert rig.vision.analysis_errors == 1
