"""Similarity alignment: exact on exact similarities, and chips land on the template."""

from __future__ import annotations

import math

import numpy as np

from models.align import ARCFACE_112, align_face, similarity_transform, transform_points


def test_recovers_a_known_similarity() -> None:
    angle, scale, shift = math.radians(20), 1.7, np.array([30.0, -12.0])
    rotation = scale * np.array(
        [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
    )
    src = ARCFACE_112.points()
    dst = (src @ rotation.T + shift).astype(np.float32)
    matrix = similarity_transform(src, dst)
    np.testing.assert_allclose(matrix[:, :2], rotation, atol=1e-4)
    np.testing.assert_allclose(matrix[:, 2], shift, atol=1e-3)
    np.testing.assert_allclose(transform_points(matrix, src), dst, atol=1e-3)


def test_chip_puts_marked_landmarks_on_the_template() -> None:
    image = np.zeros((400, 500, 3), np.uint8)
    landmarks = ARCFACE_112.points() * 2.5 + np.array([120.0, 90.0], np.float32)
    for x, y in landmarks.round().astype(int):
        image[y - 2 : y + 3, x - 2 : x + 3] = 255
    chip = align_face(image, landmarks, ARCFACE_112)
    assert chip.shape == (112, 112, 3)
    for x, y in ARCFACE_112.points().round().astype(int):
        assert chip[y, x].min() > 100, (x, y)
