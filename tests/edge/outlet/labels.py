"""Rendered waybill labels, photographed: Code 128 or QR, on packaging, slanted and blurred."""

from __future__ import annotations

import cv2
import numpy as np
import zxingcpp

_PRINT_SCALE = 8
_FORMATS = {"code128": zxingcpp.BarcodeFormat.Code128, "qr": zxingcpp.BarcodeFormat.QRCode}


def waybill_number(rng: np.random.Generator) -> str:
    """A random courier-style number: two letters and twelve digits."""
    letters = "".join(chr(65 + int(i)) for i in rng.integers(0, 26, 2))
    return letters + "".join(str(int(d)) for d in rng.integers(0, 10, 12))


def label_image(number: str, code: str, px_per_module: float) -> np.ndarray:
    """A white RGB label with ``number`` as ``code`` at ``px_per_module`` pixels per bar
    (printed sharp, then resampled as a camera would)."""
    barcode = zxingcpp.create_barcode(number, _FORMATS[code])
    printed = np.asarray(barcode.to_image(scale=_PRINT_SCALE))
    if code == "code128":
        printed = printed[: 30 * _PRINT_SCALE]
    factor = px_per_module / _PRINT_SCALE
    size = (round(printed.shape[1] * factor), round(printed.shape[0] * factor))
    image = cv2.resize(printed, size, interpolation=cv2.INTER_AREA)
    label = np.full((image.shape[0] + 20, image.shape[1] + 20, 3), 248, np.uint8)
    label[10:-10, 10:-10] = image[:, :, None]
    return label


def photographed(
    label: np.ndarray,
    background: np.ndarray,
    rng: np.random.Generator,
    blur_sigma: float = 0.0,
    slant: float = 0.0,
) -> np.ndarray:
    """``label`` on ``background`` (larger, RGB), its corners moved by up to ``slant`` of its
    size (perspective), then blurred."""
    h, w = label.shape[:2]
    out = background.copy()
    bh, bw = out.shape[:2]
    x0, y0 = (bw - w) // 2, (bh - h) // 2
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    jitter = rng.uniform(-slant, slant, (4, 2)) * np.array([w, h], dtype=np.float32)
    target = corners + np.array([x0, y0], dtype=np.float32) + jitter.astype(np.float32)
    matrix = cv2.getPerspectiveTransform(corners, target.astype(np.float32))
    warped = cv2.warpPerspective(label, matrix, (bw, bh))
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (bw, bh)) > 127
    out[mask] = warped[mask]
    if blur_sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), blur_sigma)
    return out
