"""The face engine end to end on a real photo: six different people, altered copies match."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from models.engine import FaceEngine
from models.images import load_image
from models.types import ImageRGB


@pytest.fixture(scope="module")
def group(t1_image_path: Path) -> ImageRGB:
    return load_image(t1_image_path)


def test_six_faces_all_different_people(engine: FaceEngine, group: ImageRGB) -> None:
    faces = engine.analyze(group)
    assert len(faces) == 6
    areas = [face.area_px for face in faces]
    assert areas == sorted(areas, reverse=True)
    for face in faces:
        assert face.template.shape == (engine.dimension,)
        assert abs(float(np.linalg.norm(face.template)) - 1.0) < 1e-3
    for a, b in itertools.combinations(faces, 2):
        assert not engine.is_same(engine.similarity(a.template, b.template))


def _altered(image: ImageRGB) -> ImageRGB:
    picture = Image.fromarray(image)
    picture = ImageEnhance.Brightness(picture).enhance(1.25)
    picture = picture.rotate(6, resample=Image.Resampling.BILINEAR, expand=True)
    width, height = picture.size
    picture = picture.resize((int(width * 0.8), int(height * 0.8)), Image.Resampling.BILINEAR)
    return np.asarray(picture, dtype=np.uint8)


def test_altered_copy_matches_its_own_face_only(engine: FaceEngine, group: ImageRGB) -> None:
    originals = engine.analyze(group)
    copies = engine.analyze(_altered(group))
    assert len(copies) == 6
    for copy in copies:
        scores = [engine.similarity(copy.template, original.template) for original in originals]
        best = int(np.argmax(scores))
        assert engine.is_same(scores[best])
        assert sum(engine.is_same(s) for s in scores) == 1


def test_quality_reads_blur_and_mirrored_pose(engine: FaceEngine, group: ImageRGB) -> None:
    sharp = engine.analyze(group)[0]
    blurred_image = np.asarray(Image.fromarray(group).resize((320, 222)).resize((1280, 886)))
    blurred = engine.analyze(blurred_image)
    assert blurred, "the blurred largest face should still be found"
    assert blurred[0].quality.sharpness < sharp.quality.sharpness
    mirrored = engine.analyze(np.ascontiguousarray(group[:, ::-1]))[0]
    assert sharp.quality.inter_eye_px > 20
    assert mirrored.quality.yaw_deg == pytest.approx(-sharp.quality.yaw_deg, abs=6)


def test_blank_image_has_no_faces(engine: FaceEngine) -> None:
    assert engine.analyze(np.full((480, 640, 3), 128, np.uint8)) == []


def test_batch_gives_the_same_faces_as_one_by_one(engine: FaceEngine, group: ImageRGB) -> None:
    half = np.ascontiguousarray(group[:, :640])
    blank = np.full((200, 200, 3), 90, np.uint8)
    batch = engine.analyze_batch([group, blank, half])
    assert [len(faces) for faces in batch] == [6, 0, len(engine.analyze(half))]
    for together, alone in zip(batch[0], engine.analyze(group), strict=True):
        np.testing.assert_allclose(together.template, alone.template, atol=1e-5)
        assert together.quality == alone.quality
