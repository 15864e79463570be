"""Compute reference embeddings with real dlib for the dlib ResNet converter's parity test.

Runs in a separate virtual environment with ``dlib``, ``numpy`` and ``pillow`` installed; only
this repository is needed on ``sys.path`` (added below). Writes ``tests/data/dlib_parity.json``.

    python scripts/parity/dlib_reference.py --image t1.jpg \
        --model dlib_face_recognition_resnet_model_v1.dat
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import sys
from pathlib import Path

import dlib
import numpy as np
import PIL

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from models.converters import parity_chips  # noqa: E402

DEFAULT_OUT = REPO / "tests" / "data" / "dlib_parity.json"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, default=os.environ.get("ANJU_T1_JPG"))
    parser.add_argument("--model", type=Path, default=os.environ.get("ANJU_DLIB_DAT"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.image is None or args.model is None:
        parser.error("--image/ANJU_T1_JPG and --model/ANJU_DLIB_DAT are required")
    return args


def _provenance(model: Path, image: Path) -> dict[str, object]:
    return {
        "script": "scripts/parity/dlib_reference.py",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "dlib_version": dlib.__version__,
        "numpy_version": np.__version__,
        "pillow_version": PIL.__version__,
        "model_file": model.name,
        "model_sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
        "image_file": image.name,
        "image_sha256": hashlib.sha256(image.read_bytes()).hexdigest(),
        "chips": {
            "size": parity_chips.CHIP_SIZE,
            "photo_boxes_ltrb": {name: list(box) for name, box in parity_chips.PHOTO_BOXES},
            "resize": parity_chips.RESIZE_METHOD,
            "synthetic": "gradient; uniform noise from numpy.random.default_rng(seed)",
            "seed": parity_chips.SYNTHETIC_SEED,
        },
        "call": "dlib.face_recognition_model_v1(model).compute_face_descriptor(chip, 0)",
    }


def _dumps(result: object) -> str:
    """Indented JSON with every list of numbers kept on one line."""
    text = json.dumps(result, indent=1)
    return re.sub(r"\[[-+0-9.eE,\s]*\]", lambda m: json.dumps(json.loads(m.group(0))), text)


def main(argv: list[str] | None = None) -> None:
    """Compute the dlib embeddings of every parity chip and write them as JSON."""
    args = _parse_args(argv)
    model = dlib.face_recognition_model_v1(str(args.model))
    chips = []
    for name, chip in parity_chips.make_parity_chips(args.image):
        descriptor = model.compute_face_descriptor(np.ascontiguousarray(chip), 0)
        embedding = [float(v) for v in descriptor]
        chips.append(
            {"name": name, "sha256": parity_chips.chip_sha256(chip), "embedding": embedding}
        )
    result = {"provenance": _provenance(args.model, args.image), "chips": chips}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(_dumps(result) + "\n")
    print(f"wrote {len(chips)} embeddings to {args.out}")


if __name__ == "__main__":
    main()
