"""Waybill reading: decode rate on blurred and slanted labels, voting, the camera limit, OCR."""

from __future__ import annotations

import numpy as np
import pytest

from edge.outlet.config import WaybillConfig
from edge.outlet.waybill import WaybillReader, WaybillVote, decode_codes
from tests.edge.outlet.labels import label_image, photographed, waybill_number
from tests.edge.outlet.scenes import Textures

SAMPLES = 40


def _background(textures: Textures, label: np.ndarray) -> np.ndarray:
    h, w = label.shape[0] + 120, label.shape[1] + 120
    tiles = np.tile(
        textures.closed, (h // textures.closed.shape[0] + 1, w // textures.closed.shape[1] + 1, 1)
    )
    return np.ascontiguousarray(tiles[:h, :w])


def decode_rate(textures: Textures, code: str, px: float, blur: float, slant: float) -> float:
    """Share of photographed random labels whose number decodes exactly."""
    rng = np.random.default_rng(5)
    hits = 0
    for _ in range(SAMPLES):
        number = waybill_number(rng)
        label = label_image(number, code, px)
        image = photographed(label, _background(textures, label), rng, blur, slant)
        grey = image.mean(axis=2).astype(np.uint8)
        hits += any(text == number for text, _ in decode_codes(grey))
    return hits / SAMPLES


@pytest.mark.parametrize(
    ("code", "px", "blur", "slant", "minimum"),
    [
        ("code128", 2.0, 0.0, 0.0, 1.0),
        ("code128", 2.0, 0.8, 0.0, 0.95),
        ("code128", 2.0, 0.8, 0.08, 0.95),
        ("code128", 3.0, 1.0, 0.1, 0.95),
        ("qr", 3.0, 0.8, 0.0, 0.95),
        ("qr", 5.0, 0.8, 0.08, 0.95),
    ],
)
def test_decode_rate(
    textures: Textures, code: str, px: float, blur: float, slant: float, minimum: float
) -> None:
    assert decode_rate(textures, code, px, blur, slant) >= minimum


def test_below_two_pixels_per_bar_hardly_decodes(textures: Textures) -> None:
    assert decode_rate(textures, "code128", 1.2, 0.8, 0.0) <= 0.2


def test_two_agreeing_reads_are_needed(textures: Textures) -> None:
    reader = WaybillReader(WaybillConfig(decode_every_n=1, ocr=False))
    label = label_image("SF1234567890", "code128", 2)
    crop = _background(textures, label)
    crop[60 : 60 + label.shape[0], 60 : 60 + label.shape[1]] = label
    vote = WaybillVote()
    reader.offer(vote, crop)
    assert vote.agreed is None and reader.conclude(vote) is None
    reader.offer(vote, crop)
    assert vote.agreed is not None and vote.agreed.number == "SF1234567890"
    assert vote.agreed.method == "barcode"


def test_blurred_frames_are_not_decoded(textures: Textures) -> None:
    reader = WaybillReader(WaybillConfig(decode_every_n=1, min_sharpness=1e6, ocr=False))
    vote = WaybillVote()
    reader.offer(vote, np.ascontiguousarray(textures.closed))
    assert reader.decode_attempts == 0


def test_ocr_reads_the_number_when_no_code_does(textures: Textures) -> None:
    import cv2

    from edge.outlet.waybill import RapidOcrReader

    crop = np.full((120, 520, 3), 250, np.uint8)
    cv2.putText(crop, "SF 2026 1126 0042", (12, 75), cv2.FONT_HERSHEY_SIMPLEX, 1.3, (0, 0, 0), 3)
    reader = WaybillReader(WaybillConfig(decode_every_n=1), ocr=RapidOcrReader())
    vote = WaybillVote()
    reader.offer(vote, crop)
    read = reader.conclude(vote)
    assert read is not None
    assert (read.number, read.method) == ("SF202611260042", "ocr")
