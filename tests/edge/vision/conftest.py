"""Fixtures for the gate's vision tests: faces cut from the group photo, generated videos."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.engine import FaceEngine
from tests.edge import videogen
from tests.edge.videogen import FaceCut, face_cuts
from tests.edge.vision.rig import VisionRig

__all__ = ["face_cuts", "rig", "walk_up_video"]


@pytest.fixture(scope="session")
def walk_up_video(face_cuts: list[FaceCut], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seconds of the first face walking up, as MJPG .avi."""
    folder = tmp_path_factory.mktemp("video")
    return videogen.write_video(videogen.walk_up(face_cuts[0], 30), folder / "walk.avi")


@pytest.fixture
def rig(engine: FaceEngine) -> VisionRig:
    """A rig without liveness."""
    return VisionRig(engine)
