"""Tracker: faces linked across frames by overlap or centre shift; unseen tracks end."""

from __future__ import annotations

import numpy as np
import pytest

from edge.track import Tracker, TrackerConfig
from models.engine import Face
from models.quality import FaceQuality

QUALITY = FaceQuality(60, 100, 0, 0)


def face_at(x: float, y: float, side: float = 80) -> Face:
    box = np.array([x, y, x + side, y + side], np.float32)
    template = np.zeros(4, np.float32)
    return Face(box, np.zeros((5, 2), np.float32), 0.9, QUALITY, template)


def test_a_face_moving_and_growing_stays_one_track() -> None:
    tracker = Tracker()
    ids = set()
    for i in range(20):
        seen = tracker.update([face_at(100 + 6 * i, 100 + 2 * i, 60 + 3 * i)], i / 15, i)
        ids |= {t.track_id for t in seen}
    assert len(ids) == 1 and len(tracker.tracks[0].observations) == 20


def test_two_people_side_by_side_are_two_tracks() -> None:
    tracker = Tracker()
    for i in range(10):
        seen = tracker.update([face_at(50 + 2 * i, 100), face_at(400 - 2 * i, 100)], i / 15, i)
        assert len(seen) == 2
    assert len(tracker.tracks) == 2
    left, right = sorted(tracker.tracks, key=lambda t: float(t.box[0]))
    assert all(o.face.xyxy[0] < 200 for o in left.observations)
    assert all(o.face.xyxy[0] > 200 for o in right.observations)


@pytest.mark.parametrize(("gap_s", "tracks_made"), [(0.5, 1), (2.0, 2)])
def test_a_face_gone_longer_than_max_age_starts_a_new_track(gap_s: float, tracks_made: int) -> None:
    tracker = Tracker(TrackerConfig(max_age_s=1.5))
    first = tracker.update([face_at(100, 100)], 0.0)[0]
    second = tracker.update([face_at(100, 100)], gap_s)[0]
    assert len({first.track_id, second.track_id}) == tracks_made


def test_a_jump_across_the_frame_is_a_new_person() -> None:
    tracker = Tracker()
    first = tracker.update([face_at(10, 10)], 0.0)[0]
    second = tracker.update([face_at(500, 300)], 0.1)[0]
    assert first.track_id != second.track_id


def test_observations_are_capped() -> None:
    tracker = Tracker(TrackerConfig(max_observations=5))
    for i in range(12):
        tracker.update([face_at(100, 100)], i / 15, i)
    assert [o.frame_sequence for o in tracker.tracks[0].observations] == [7, 8, 9, 10, 11]
