"""Generated inspection videos: a textured desk seen from above, a parcel with a printed label,
drawn hands, and the X-ray belt exit; each scenario carries its ground truth.

Textures are crops of a real photo (the fixture ``t1_image_path``): the wall strip, the
packaging print and the parcel contents. Frames are 640x360 at 10 fps.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import zxingcpp
from PIL import Image, ImageDraw

WIDTH, HEIGHT, FPS = 640, 360, 10
BOX = (150, 110, 430, 290)  # x0, y0, x1, y1 on the desk
SKIN = (222, 172, 140)


@dataclass(frozen=True)
class Scenario:
    """One parcel's story on the desk; times in seconds from the start of the video."""

    name: str
    waybill: str | None = "SF1234567890"
    code: str = "code128"
    opened: bool = True
    inspect_s: float = 15.0
    wave_closed_s: float = 0.0
    xray: bool = True
    noise: float = 0.0
    drift: float = 0.0
    shake_px: int = 0
    expected_flags: list[str] = field(default_factory=list)

    def truth(self) -> dict[str, Any]:
        """Ground truth as JSON-ready data."""
        return asdict(self) | {"timeline": timeline(self)}


def timeline(s: Scenario) -> dict[str, float]:
    """Key moments of a scenario."""
    arrive, open_at = 1.5, 4.0
    work = s.inspect_s if s.opened else s.wave_closed_s
    remove = open_at + work + (2.0 if s.opened else 1.0)
    return {
        "arrive": arrive,
        "open": open_at,
        "work_end": open_at + work,
        "remove": remove,
        "xray": remove + 2.5,
        "end": remove + 9.0,
    }


class Textures:
    """Layers cut once from the photo and drawn once with Pillow."""

    def __init__(self, photo_path: Path) -> None:
        photo = Image.open(photo_path).convert("RGB")
        rng = np.random.default_rng(7)
        desk = np.full((HEIGHT, WIDTH, 3), (150, 118, 84), np.float32)
        desk += rng.normal(0, 4, (HEIGHT, 1, 1)) + np.sin(np.arange(WIDTH) / 9.0)[None, :, None] * 6
        wall = np.asarray(photo.resize((WIDTH, 48)), np.float32)
        desk[:48] = wall
        belt = np.full((HEIGHT, 160, 3), 60, np.float32)
        belt[:, ::16] = 90
        desk[:, 480:] = belt
        self.desk = np.clip(desk, 0, 255).astype(np.uint8)
        w, h = BOX[2] - BOX[0], BOX[3] - BOX[1]
        print_ = np.asarray(photo.crop((100, 100, 500, 357)).resize((w, h)), np.float32)
        self.closed = np.clip(print_ * 0.35 + np.array([170, 130, 80]) * 0.65, 0, 255)
        self.closed[h // 2 - 4 : h // 2 + 4] = (205, 190, 150)  # tape
        self.closed = self.closed.astype(np.uint8)
        interior = np.full((h, w, 3), (70, 50, 30), np.uint8)
        interior[30:110, 40:150] = np.asarray(photo.crop((600, 200, 800, 400)).resize((110, 80)))
        interior[60:140, 170:250] = np.asarray(photo.crop((900, 250, 1050, 400)).resize((80, 80)))
        self.opened = interior
        self.xray_item = np.asarray(photo.crop((300, 300, 420, 420)).resize((120, 90)).convert("L"))

    def label(self, scenario: Scenario) -> np.ndarray:
        """The printed waybill label (white, with its code)."""
        assert scenario.waybill is not None
        fmt = (
            zxingcpp.BarcodeFormat.QRCode
            if scenario.code == "qr"
            else zxingcpp.BarcodeFormat.Code128
        )
        code = np.asarray(zxingcpp.create_barcode(scenario.waybill, fmt).to_image(scale=2))[:60]
        label = np.full((code.shape[0] + 16, code.shape[1] + 16, 3), 250, np.uint8)
        label[8:-8, 8:-8] = code[:, :, None]
        return label


def _hands(frame: np.ndarray, t: float, centre: tuple[float, float]) -> None:
    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    for side in (-1, 1):
        x = centre[0] + side * 55 + 30 * math.sin(t * 5.0 + side)
        y = centre[1] + 25 * math.cos(t * 4.0 + side)
        draw.rectangle((x - 14, y, x + 14, HEIGHT), fill=(90, 110, 160))  # sleeve
        draw.ellipse((x - 26, y - 20, x + 26, y + 20), fill=SKIN)
        for finger in range(4):
            fx = x - 18 + finger * 12
            draw.rectangle((fx, y - 34, fx + 7, y - 14), fill=SKIN)
    frame[:] = np.asarray(image)


def render(scenario: Scenario, textures: Textures) -> Iterator[tuple[float, np.ndarray]]:
    """Frames of ``scenario`` with their time in seconds."""
    times = timeline(scenario)
    rng = np.random.default_rng(11)
    label = textures.label(scenario) if scenario.waybill else None
    for index in range(int(times["end"] * FPS)):
        t = index / FPS
        frame = textures.desk.copy()
        if times["arrive"] <= t < times["remove"]:
            opened = scenario.opened and t >= times["open"]
            frame[BOX[1] : BOX[3], BOX[0] : BOX[2]] = textures.opened if opened else textures.closed
            if label is not None and not opened:
                ly, lx = BOX[1] + 10, BOX[0] + 10
                frame[ly : ly + label.shape[0], lx : lx + label.shape[1]] = label
            busy = times["open"] <= t < times["work_end"]
            if busy or t < times["arrive"] + 0.5 or t >= times["remove"] - 0.5:
                _hands(frame, t, ((BOX[0] + BOX[2]) / 2, (BOX[1] + BOX[3]) / 2))
        if scenario.xray and times["xray"] <= t < times["xray"] + 1.5:
            y = int(120 + (t - times["xray"]) * 60)
            frame[y : y + 90, 500:620] = textures.xray_item[:, :, None] // 2 + 60
        yield t, _degrade(frame, scenario, t, rng)


def _degrade(frame: np.ndarray, s: Scenario, t: float, rng: np.random.Generator) -> np.ndarray:
    out = frame.astype(np.float32)
    if s.drift:
        out *= 1.0 + s.drift * math.sin(t / 6.0)
    if s.noise:
        out += rng.normal(0, s.noise, out.shape)
    if s.shake_px:
        dx, dy = (int(v) for v in rng.integers(-s.shake_px, s.shake_px + 1, 2))
        out = np.roll(out, (dy, dx), axis=(0, 1))
    return np.clip(out, 0, 255).astype(np.uint8)


def write_video(scenario: Scenario, textures: Textures, path: Path) -> Path:
    """Write ``scenario`` as a Motion-JPEG AVI (640x360, 10 fps)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    for _, frame in render(scenario, textures):
        writer.write(np.ascontiguousarray(frame[:, :, ::-1]))
    writer.release()
    return path
