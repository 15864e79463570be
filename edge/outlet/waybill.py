"""Reading the waybill number: Code 128 and QR with zxing-cpp, OCR of the number as a fallback.

Only sharp crops of the box are decoded (variance of the Laplacian above a floor), every n-th
frame, until ``votes_needed`` reads agree. The sharpest crops are kept so that, when no code
reads, OCR (rapidocr, optional) looks at a few of them once the parcel leaves, never at every
frame. zxing-cpp locates and straightens rotated and slanted codes itself, so OpenCV is not
needed for that. Camera requirement, measured on rendered labels (tests/edge/outlet): Code 128
needs >= 2 px per narrow bar (all read at 2 px even blurred and slanted; none at 1.2 px), QR
>= 3 px per module square-on and ~5 px per module when the label is slanted. With 0.33 mm
bars that is ~6 px/mm: 1920 px may span at most ~32 cm of the desk.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import cv2
import numpy as np
import zxingcpp

from edge.outlet.config import WaybillConfig
from models.types import ImageRGB

log = logging.getLogger(__name__)

ReadMethod = Literal["barcode", "qr", "ocr"]
_FORMATS = zxingcpp.BarcodeFormats([zxingcpp.BarcodeFormat.Code128, zxingcpp.BarcodeFormat.QRCode])


@dataclass(frozen=True)
class WaybillRead:
    """An agreed waybill number and how it was read."""

    number: str
    method: ReadMethod


def sharpness(grey: np.ndarray[Any, Any]) -> float:
    """Variance of the Laplacian: higher is sharper."""
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def decode_codes(grey: np.ndarray[Any, Any]) -> list[tuple[str, ReadMethod]]:
    """Every Code 128 or QR text found in a grey image, with its kind."""
    found: list[tuple[str, ReadMethod]] = []
    for result in zxingcpp.read_barcodes(grey, formats=_FORMATS):
        if result.valid and result.text:
            kind: ReadMethod = "qr" if result.format == zxingcpp.BarcodeFormat.QRCode else "barcode"
            found.append((result.text.strip(), kind))
    return found


class TextReader(Protocol):
    """Reads text lines in an image (the OCR fallback)."""

    def read_lines(self, image_rgb: ImageRGB) -> list[str]: ...


class RapidOcrReader:
    """rapidocr's PP-OCR models (shipped in its wheel) on onnxruntime."""

    def __init__(self) -> None:
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:
            raise RuntimeError(
                "waybill.ocr needs the 'rapidocr' package (pip install rapidocr)"
            ) from exc
        self._engine = RapidOCR()

    def read_lines(self, image_rgb: ImageRGB) -> list[str]:
        """The text lines rapidocr finds."""
        result = self._engine(np.ascontiguousarray(image_rgb[:, :, ::-1]))
        return [str(text) for text in (getattr(result, "txts", None) or ())]


@dataclass
class WaybillVote:
    """The reads of one parcel so far."""

    votes: Counter[tuple[str, ReadMethod]] = field(default_factory=Counter)
    sharpest: list[tuple[float, ImageRGB]] = field(default_factory=list)
    label_crop: ImageRGB | None = None
    agreed: WaybillRead | None = None
    frames_seen: int = 0


class WaybillReader:
    """Votes on one parcel's waybill number across frames; OCR when no code agrees."""

    def __init__(self, config: WaybillConfig, ocr: TextReader | None = None) -> None:
        self._config = config
        self._pattern = re.compile(config.number_pattern)
        self._ocr = ocr
        self.decode_attempts = 0

    def offer(self, vote: WaybillVote, crop_rgb: ImageRGB) -> None:
        """Consider one crop of the box (full resolution) for this parcel."""
        vote.frames_seen += 1
        if vote.agreed is not None or (vote.frames_seen - 1) % self._config.decode_every_n:
            return
        grey = cv2.cvtColor(crop_rgb, cv2.COLOR_RGB2GRAY)
        score = sharpness(grey)
        if score < self._config.min_sharpness:
            return
        self._keep_sharp(vote, score, crop_rgb)
        self.decode_attempts += 1
        for text, kind in decode_codes(grey):
            if not self._pattern.match(text):
                continue
            vote.votes[(text, kind)] += 1
            vote.label_crop = vote.label_crop if vote.label_crop is not None else crop_rgb
            if vote.votes[(text, kind)] >= self._config.votes_needed:
                vote.agreed = WaybillRead(text, kind)

    def conclude(self, vote: WaybillVote) -> WaybillRead | None:
        """The agreed number, else an OCR read of the sharpest crops, else None."""
        if vote.agreed is not None or self._ocr is None:
            return vote.agreed
        for _, crop in vote.sharpest:
            for line in self._ocr.read_lines(crop):
                number = re.sub(r"[^A-Z0-9]", "", line.upper())
                if self._pattern.match(number):
                    vote.label_crop = crop
                    log.info("event=waybill_ocr number_len=%d", len(number))
                    return WaybillRead(number, "ocr")
        return None

    def _keep_sharp(self, vote: WaybillVote, score: float, crop: ImageRGB) -> None:
        vote.sharpest.append((score, crop))
        vote.sharpest.sort(key=lambda item: -item[0])
        del vote.sharpest[self._config.ocr_frames :]
