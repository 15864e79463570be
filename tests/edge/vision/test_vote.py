"""The per-track vote: quality gates, weights, agreement, and when it decides."""

from __future__ import annotations

import numpy as np
import pytest

from edge.recognize import TemplateIndex, VoteConfig, quality_weight, vote
from models.engine import Face
from models.quality import FaceQuality

DIM = 16
GOOD = FaceQuality(inter_eye_px=60, sharpness=150, yaw_deg=0, pitch_deg=0)
SMALL = FaceQuality(inter_eye_px=10, sharpness=150, yaw_deg=0, pitch_deg=0)
BLURRED = FaceQuality(inter_eye_px=60, sharpness=2, yaw_deg=0, pitch_deg=0)
TURNED = FaceQuality(inter_eye_px=60, sharpness=150, yaw_deg=60, pitch_deg=0)
TILTED = FaceQuality(inter_eye_px=60, sharpness=150, yaw_deg=0, pitch_deg=50)


def axis(i: int) -> np.ndarray:
    vector = np.zeros(DIM, np.float32)
    vector[i] = 1
    return vector


def face(template: np.ndarray, quality: FaceQuality = GOOD) -> Face:
    box = np.array([0, 0, 100, 100], np.float32)
    return Face(box, np.zeros((5, 2), np.float32), 0.9, quality, template.astype(np.float32))


@pytest.fixture
def index() -> TemplateIndex:
    gallery = TemplateIndex(DIM, "numpy")
    gallery.replace_all({"alice": axis(0)[None], "bob": axis(1)[None]})
    return gallery


ALICE, BOB, STRANGER = axis(0), axis(1), axis(5)


@pytest.mark.parametrize(
    ("faces", "status", "person"),
    [
        ([face(ALICE)] * 3, "match", "alice"),
        ([face(ALICE)] * 2, "pending", None),
        ([face(ALICE)] * 2 + [face(ALICE, SMALL)] * 5, "pending", None),
        ([face(ALICE, BLURRED)] * 5 + [face(ALICE, TURNED)] * 5, "pending", None),
        ([face(ALICE, TILTED)] * 9, "pending", None),
        ([face(ALICE)] * 3 + [face(BOB)], "match", "alice"),
        ([face(STRANGER)] * 3, "pending", None),
        ([face(STRANGER)] * 6, "no_match", None),
        ([face(ALICE)] * 3 + [face(BOB)] * 3, "ambiguous", None),
        ([face(STRANGER)] * 4 + [face(ALICE)] * 2, "no_match", None),
        ([face(ALICE)] * 2 + [face(ALICE, SMALL)] * 3 + [face(BOB)] * 2, "pending", None),
    ],
)
def test_vote_table(
    index: TemplateIndex, faces: list[Face], status: str, person: str | None
) -> None:
    result = vote(faces, index, threshold=0.8, config=VoteConfig())
    assert (result.status, result.person_id) == (status, person)


def test_match_score_is_the_weighted_similarity(index: TemplateIndex) -> None:
    close = (ALICE * 0.9 + STRANGER * np.sqrt(1 - 0.81)).astype(np.float32)
    result = vote([face(ALICE), face(close), face(close)], index, 0.8, VoteConfig())
    assert result.status == "match"
    assert result.score == pytest.approx((1.0 + 0.9 + 0.9) / 3, abs=1e-5)


def test_revocation_between_frames_is_seen(index: TemplateIndex) -> None:
    faces = [face(ALICE)] * 6
    assert vote(faces, index, 0.8, VoteConfig()).status == "match"
    index.remove("alice")
    assert vote(faces, index, 0.8, VoteConfig()).status == "no_match"


@pytest.mark.parametrize(
    ("quality", "usable"),
    [(GOOD, True), (SMALL, False), (BLURRED, False), (TURNED, False), (TILTED, False)],
)
def test_quality_gates(quality: FaceQuality, usable: bool) -> None:
    assert (quality_weight(quality, VoteConfig()) > 0) is usable


def test_better_faces_weigh_more() -> None:
    config = VoteConfig()
    near = quality_weight(GOOD, config)
    far = quality_weight(FaceQuality(32, 150, 0, 0), config)
    turned = quality_weight(FaceQuality(60, 150, 30, 0), config)
    assert near > far and near > turned
