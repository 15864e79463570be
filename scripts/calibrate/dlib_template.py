"""Measure where our five landmarks fall on dlib's own 150 px face chips.

dlib aligns faces for its ResNet with its 5-point shape predictor (eye corners and nose) and
cuts a 150 px chip with 0.25 padding. Our detectors give other points (eye centres, nose tip,
mouth corners), so the chip template for them is measured: dlib cuts the chips, our detectors
find the landmarks on them, and the average position is the template (models/align.py,
``DLIB_150``). Run in a venv with ``dlib`` and the project's dependencies:

    python scripts/calibrate/dlib_template.py --model-dir ~/.cache/anju/models IMAGE_OR_DIR...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import dlib
import face_recognition_models

from models.images import load_image
from models.zoo import FaceEngineConfig, open_detector

_SUFFIXES = {".jpg", ".jpeg", ".png"}


def images_under(paths: list[Path]) -> list[Path]:
    """Every image file named or found under the given paths."""
    found: list[Path] = []
    for path in paths:
        found += (
            sorted(p for p in path.rglob("*") if p.suffix.lower() in _SUFFIXES)
            if path.is_dir()
            else [path]
        )
    return found


def dlib_chips(image: np.ndarray) -> list[np.ndarray]:
    """dlib's 150 px chips (padding 0.25) of every face its HOG detector finds."""
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(
        face_recognition_models.pose_predictor_five_point_model_location()
    )
    return [
        np.asarray(dlib.get_face_chip(image, predictor(image, box), size=150, padding=0.25))
        for box in detector(image, 1)
    ]


def main() -> None:
    """Print the measured template and its spread."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--model-dir", type=Path, required=True)
    args = parser.parse_args()
    points: dict[str, list[np.ndarray]] = {"yunet": [], "mtcnn": []}
    detectors = {
        name: open_detector(
            FaceEngineConfig(model_dir=args.model_dir, detector=name, min_face_px=30)
        )
        for name in points
    }
    for path in images_under(args.paths):
        for chip in dlib_chips(load_image(path)):
            for name, detector in detectors.items():
                found = detector.detect(chip)
                if len(found):
                    points[name].append(found.landmarks_xy[0])
    for name, values in points.items():
        stacked = np.stack(values)
        print(f"{name}: {len(values)} chips")
        print("  mean", np.round(stacked.mean(axis=0), 1).tolist())
        print("  std ", np.round(stacked.std(axis=0), 1).tolist())
    both = np.concatenate([np.stack(v) for v in points.values()])
    print("template (both detectors):", np.round(both.mean(axis=0), 1).tolist())


if __name__ == "__main__":
    main()
