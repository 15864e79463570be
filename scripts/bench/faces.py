"""Face pipeline benchmark: per-stage ms and frames/s, next to face_recognition in the same run.

Frames with one face are cut from the sample group photo at 640x480 and 1280x720. Our engine
runs with 1 and 2 threads; `face_recognition` 1.3 (dlib HOG with one upsample, landmarks and
the same ResNet) runs with its defaults when the `bench` extra is installed. With a folder of
labelled photos (default ../shared/faces when present) it also checks that both make the same
same/different decisions. The last line is ``ratio_vs_face_recognition: X`` at 640x480, 1 thread.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from models.engine import FaceEngine
from models.evaluate import load_dataset
from models.images import load_image
from models.paths import default_model_dir, pack_dir
from models.quality import measure_quality
from models.sessions import RuntimeConfig
from models.types import ImageRGB
from models.zoo import FaceEngineConfig, open_engine

SIZES = ((640, 480), (1280, 720))
# The region of the sample photo around one face (Chandler's) and nobody else's.
ONE_FACE_REGION = (600, 250, 1080, 610)


def one_face_frame(photo: ImageRGB, width: int, height: int) -> ImageRGB:
    """A ``width`` x ``height`` frame holding one face of the group photo."""
    region = Image.fromarray(photo).crop(ONE_FACE_REGION)
    scale = max(width / region.width, height / region.height)
    grown = region.resize((round(region.width * scale), round(region.height * scale)))
    left, top = (grown.width - width) // 2, (grown.height - height) // 2
    return np.asarray(grown.crop((left, top, left + width, top + height)), dtype=np.uint8)


def median_ms(call: Callable[[], Any], repeats: int) -> float:
    """Median wall time of ``call`` in milliseconds, after one warm-up call."""
    call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def stage_times(engine: FaceEngine, frame: ImageRGB, repeats: int) -> dict[str, float]:
    """Median ms of each stage of our pipeline on ``frame``, and of the whole."""
    found = engine.detect(frame)
    if len(found) != 1:
        raise SystemExit(f"benchmark frame should hold one face, found {len(found)}")
    landmarks = found.landmarks_xy[0]
    times = {"detect": median_ms(lambda: engine.detect(frame), repeats)}
    chips = {}
    for item in engine.embedders:
        name, align, embed = item.embedder.spec.name, item.embedder.align, item.embedder.embed
        chips[name] = align(frame, landmarks)
        times[f"align_{name}"] = median_ms(partial(align, frame, landmarks), repeats)
        times[f"embed_{name}"] = median_ms(partial(embed, [chips[name]]), repeats)
    chip = next(iter(chips.values()))
    times["quality"] = median_ms(partial(measure_quality, landmarks, chip), repeats)
    times["total"] = median_ms(lambda: engine.analyze(frame), repeats)
    return times


def face_recognition_ms(frame: ImageRGB, repeats: int) -> float | None:
    """Median ms of face_recognition's defaults on ``frame``; None when it is not installed."""
    try:
        import face_recognition
    except ImportError:
        return None

    def run() -> None:
        boxes = face_recognition.face_locations(frame, number_of_times_to_upsample=1, model="hog")
        face_recognition.face_encodings(frame, boxes)

    return median_ms(run, repeats)


def decision_agreement(engine: FaceEngine, root: Path) -> str:
    """How often our same/different decision equals face_recognition's on labelled photos."""
    try:
        import face_recognition
    except ImportError:
        return "face_recognition not installed"
    ours, theirs, truth = [], [], []
    for identity, path in load_dataset(root):
        image = load_image(path)
        faces = engine.analyze(image)
        encodings = face_recognition.face_encodings(image)
        if faces and encodings:
            ours.append(faces[0].template)
            theirs.append(encodings[0])
            truth.append(identity)
    pairs = list(itertools.combinations(range(len(truth)), 2))
    same_ours = [engine.is_same(engine.similarity(ours[i], ours[j])) for i, j in pairs]
    same_theirs = [bool(np.linalg.norm(theirs[i] - theirs[j]) <= 0.6) for i, j in pairs]
    agree = sum(a == b for a, b in zip(same_ours, same_theirs, strict=True))
    errors_ours = sum(
        s != (truth[i] == truth[j]) for s, (i, j) in zip(same_ours, pairs, strict=True)
    )
    errors_theirs = sum(
        s != (truth[i] == truth[j]) for s, (i, j) in zip(same_theirs, pairs, strict=True)
    )
    return (
        f"{agree}/{len(pairs)} pairs decided alike; wrong decisions: ours {errors_ours}, "
        f"face_recognition {errors_theirs}"
    )


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=default_model_dir())
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--detector", default=None)
    parser.add_argument(
        "--faces-dir", type=Path, default=Path(__file__).parents[3] / "shared/faces"
    )
    args = parser.parse_args()
    photo = load_image(pack_dir(args.model_dir, "anju-open") / "samples/t1.jpg")
    ratio = None
    for width, height in SIZES:
        frame = one_face_frame(photo, width, height)
        baseline = face_recognition_ms(frame, max(3, args.repeats // 4))
        for threads in (1, 2):
            config = FaceEngineConfig(
                model_dir=args.model_dir,
                detector=args.detector,
                runtime=RuntimeConfig(intra_op_threads=threads),
            )
            times = stage_times(open_engine(config), frame, args.repeats)
            stages = " ".join(f"{k}={v:.1f}ms" for k, v in times.items())
            print(f"{width}x{height} threads={threads} {stages} fps={1000 / times['total']:.1f}")
            if baseline is not None and threads == 1 and (width, height) == SIZES[0]:
                ratio = baseline / times["total"]
        if baseline is not None:
            print(
                f"{width}x{height} face_recognition(hog, upsample=1)={baseline:.1f}ms "
                f"fps={1000 / baseline:.1f}"
            )
    if args.faces_dir.is_dir():
        engine = open_engine(FaceEngineConfig(model_dir=args.model_dir, detector=args.detector))
        print(f"decisions on {args.faces_dir}: {decision_agreement(engine, args.faces_dir)}")
    print(
        f"ratio_vs_face_recognition: {ratio:.1f}"
        if ratio
        else "ratio_vs_face_recognition: n/a (pip install -e '.[bench]' for the baseline)"
    )


if __name__ == "__main__":
    main()
