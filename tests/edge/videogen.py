"""Generated test video built from the real faces of the group photo (fixture ``t1_image_path``).

Each face is cut out with a margin, composited with a soft elliptical edge onto a synthetic
background, and animated: walking up (growing, moving to the centre), turning the head (a
depth-parallax warp: the nose stands out of an ellipsoidal face, so it moves further than the
eyes, as on a real head), or held up as a flat printed photo (rigid 2-D motion only: the yaw
read from its landmarks cannot change). Videos are written with OpenCV (MJPG in .avi).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from models.engine import FaceEngine
from models.images import load_image
from models.types import ImageRGB

FRAME_WH = (640, 480)
FPS = 15


@dataclass(frozen=True)
class FaceCut:
    """One face of the photo with a margin around it, and its landmarks in the cut."""

    image_rgb: ImageRGB
    landmarks_xy: np.ndarray
    template: np.ndarray

    @property
    def inter_eye_px(self) -> float:
        """Distance between the eyes in the cut."""
        return float(np.linalg.norm(self.landmarks_xy[1] - self.landmarks_xy[0]))


def cut_faces(engine: FaceEngine, photo: Path, margin: float = 0.9) -> list[FaceCut]:
    """Every face of ``photo`` (largest first) cut with ``margin`` box sizes around it."""
    image = load_image(photo)
    cuts = []
    for face in engine.analyze(image):
        x1, y1, x2, y2 = (float(v) for v in face.xyxy)
        side = max(x2 - x1, y2 - y1) * (1 + 2 * margin)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        left, top = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
        right = int(min(image.shape[1], cx + side / 2))
        bottom = int(min(image.shape[0], cy + side / 2))
        crop = np.ascontiguousarray(image[top:bottom, left:right])
        points = face.landmarks_xy - np.array([left, top], np.float32)
        cuts.append(FaceCut(crop, points, face.template))
    return cuts


def background(seed: int = 7) -> ImageRGB:
    """A fixed synthetic scene: a gradient wall, a door frame and a few blocks."""
    width, height = FRAME_WH
    rng = np.random.default_rng(seed)
    ramp = np.linspace(90, 170, height, dtype=np.float32)[:, None, None]
    wall = np.broadcast_to(ramp * np.array([0.9, 1.0, 0.8], np.float32), (height, width, 3))
    scene: ImageRGB = np.ascontiguousarray(wall.astype(np.uint8))
    for _ in range(6):
        x, y = int(rng.integers(0, width - 80)), int(rng.integers(0, height - 80))
        colour = tuple(int(c) for c in rng.integers(40, 220, 3))
        cv2.rectangle(scene, (x, y), (x + int(rng.integers(30, 120)), y + 60), colour, -1)
    cv2.rectangle(scene, (200, 40), (440, 470), (70, 60, 50), 8)
    return scene


def turn_head(cut: FaceCut, yaw_deg: float) -> ImageRGB:
    """The cut with its head turned by ``yaw_deg`` (positive: towards the image's left)."""
    if abs(yaw_deg) < 1e-6:
        return cut.image_rgb
    eyes, nose = cut.landmarks_xy[:2], cut.landmarks_xy[2]
    eye_gap = float(np.linalg.norm(eyes[1] - eyes[0]))
    centre = (eyes.mean(axis=0) + cut.landmarks_xy[3:].mean(axis=0)) / 2
    height, width = cut.image_rgb.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    dx, dy = xs - centre[0], ys - centre[1]
    semi_x, semi_y = 1.15 * eye_gap, 1.6 * eye_gap
    inside = np.clip(1 - (dx / semi_x) ** 2 - (dy / semi_y) ** 2, 0, None)
    depth = semi_x * np.sqrt(inside)
    bump = (xs - nose[0]) ** 2 + (ys - nose[1]) ** 2
    depth += 0.8 * eye_gap * np.exp(-bump / (2 * (0.28 * eye_gap) ** 2))
    theta = math.radians(yaw_deg)
    source_x = centre[0] + (dx - depth * math.sin(theta)) / math.cos(theta)
    warped = cv2.remap(cut.image_rgb, source_x, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    result: ImageRGB = np.ascontiguousarray(warped, np.uint8)
    return result


def composite(
    scene: ImageRGB, patch: ImageRGB, centre_xy: tuple[float, float], scale: float
) -> ImageRGB:
    """``scene`` with ``patch`` scaled by ``scale`` pasted at ``centre_xy`` with a soft edge."""
    frame = scene.copy()
    size = (max(2, int(patch.shape[1] * scale)), max(2, int(patch.shape[0] * scale)))
    resized = cv2.resize(patch, size, interpolation=cv2.INTER_LINEAR).astype(np.float32)
    mask = np.zeros(resized.shape[:2], np.float32)
    axes = (int(size[0] * 0.42), int(size[1] * 0.47))
    cv2.ellipse(mask, (size[0] // 2, size[1] // 2), axes, 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, size[0] * 0.04))[:, :, None]
    x0, y0 = int(centre_xy[0] - size[0] / 2), int(centre_xy[1] - size[1] / 2)
    fx0, fy0 = max(0, x0), max(0, y0)
    fx1, fy1 = min(frame.shape[1], x0 + size[0]), min(frame.shape[0], y0 + size[1])
    if fx1 <= fx0 or fy1 <= fy0:
        return frame
    part = (slice(fy0 - y0, fy1 - y0), slice(fx0 - x0, fx1 - x0))
    region = frame[fy0:fy1, fx0:fx1].astype(np.float32)
    blended = region * (1 - mask[part]) + resized[part] * mask[part]
    frame[fy0:fy1, fx0:fx1] = blended.astype(np.uint8)
    return frame


YawPath = Callable[[float], float]
"""Yaw in degrees as a function of the time fraction 0..1."""


def walk_up(
    cut: FaceCut,
    frames: int = 30,
    yaw: YawPath | None = None,
    eye_px: tuple[float, float] = (35, 70),
) -> Iterator[ImageRGB]:
    """A person walking up to the camera (face growing, drifting to the centre)."""
    scene = background()
    for i in range(frames):
        t = i / max(1, frames - 1)
        scale = (eye_px[0] + (eye_px[1] - eye_px[0]) * t) / cut.inter_eye_px
        centre = (200 + 120 * t, 200 + 40 * t)
        patch = turn_head(cut, yaw(t)) if yaw is not None else cut.image_rgb
        yield composite(scene, patch, centre, scale)


def turning_head(cut: FaceCut, turns: list[float], ramp_frames: int = 4) -> Iterator[ImageRGB]:
    """A person standing close, turning to each yaw in ``turns``, holding it, turning back."""
    scene = background()
    scale = 65 / cut.inter_eye_px
    for _ in range(4):
        yield composite(scene, cut.image_rgb, (320, 230), scale)
    ramp = [(i + 1) / ramp_frames for i in range(ramp_frames)]
    for target in turns:
        for fraction in [*ramp, 1.0, 1.0, 1.0, *ramp[::-1][1:], 0.0, 0.0]:
            angle = target * math.sin(math.pi / 2 * fraction)
            yield composite(scene, turn_head(cut, angle), (320, 230), scale)


def flat_photo(cut: FaceCut, frames: int = 60, seed: int = 0) -> Iterator[ImageRGB]:
    """A printed photo moved in front of the camera: translation, scale, small in-plane tilt."""
    scene = background()
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * math.pi, 3)
    for i in range(frames):
        t = i / FPS
        scale = (60 + 12 * math.sin(1.3 * t + phase[0])) / cut.inter_eye_px
        centre = (320 + 90 * math.sin(0.9 * t + phase[1]), 230 + 30 * math.sin(1.7 * t))
        angle = 8 * math.sin(1.1 * t + phase[2])
        rotation = cv2.getRotationMatrix2D(
            (cut.image_rgb.shape[1] / 2, cut.image_rgb.shape[0] / 2), angle, 1.0
        )
        tilted = np.asarray(
            cv2.warpAffine(cut.image_rgb, rotation, cut.image_rgb.shape[1::-1]), np.uint8
        )
        yield composite(scene, tilted, centre, scale)


def empty_scene(frames: int) -> Iterator[ImageRGB]:
    """Frames with nobody in them."""
    scene = background()
    for _ in range(frames):
        yield scene.copy()


def write_video(frames: Iterator[ImageRGB], path: Path, fps: int = FPS) -> Path:
    """Write RGB ``frames`` as MJPG .avi at ``path``."""
    writer: cv2.VideoWriter | None = None
    try:
        for frame in frames:
            if writer is None:
                fourcc = cv2.VideoWriter.fourcc(*"MJPG")
                writer = cv2.VideoWriter(str(path), fourcc, fps, frame.shape[1::-1])
            writer.write(np.ascontiguousarray(frame[:, :, ::-1]))
    finally:
        if writer is not None:
            writer.release()
    return path


def truncate(path: Path, keep_fraction: float) -> Path:
    """Cut the file at ``path`` short (as a copy interrupted mid-write would leave it)."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep_fraction)])
    return path


def scramble(path: Path, start_fraction: float, length: int, seed: int = 3) -> Path:
    """Overwrite ``length`` bytes from ``start_fraction`` of the file with random bytes."""
    data = bytearray(path.read_bytes())
    start = int(len(data) * start_fraction)
    noise = np.random.default_rng(seed).integers(0, 256, length, dtype=np.uint8).tobytes()
    data[start : start + length] = noise[: len(data) - start]
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="session")
def face_cuts(engine: FaceEngine, t1_image_path: Path) -> list[FaceCut]:
    """Fixture: the six faces of the group photo, largest first (import it into a conftest)."""
    cuts = cut_faces(engine, t1_image_path)
    assert len(cuts) == 6
    return cuts
