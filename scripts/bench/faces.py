"""Face pipeline benchmark: per-stage ms and frames/s, next to face_recognition in the same run.

Frames with one face are cut from the sample group photo at 640x480 and 1280x720. Our engine
runs with 1 and 2 threads; `face_recognition` 1.3 (dlib HOG with one upsample, landmarks and
the same ResNet) runs with its defaults when the `bench` extra is installed. With a folder of
labelled photos (default ../shared/faces when present) it also checks that both make the same
same/different decisions. The last line is ``ratio_vs_face_recognition: X`` at 640x480, 1 thread.
``--json PATH`` also writes the figures (see scripts/bench/results.py).
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from models.engine import FaceEngine  # noqa: E402
from models.evaluate import load_dataset  # noqa: E402
from models.images import load_image  # noqa: E402
from models.paths import default_model_dir, pack_dir  # noqa: E402
from models.quality import measure_quality  # noqa: E402
from models.sessions import RuntimeConfig  # noqa: E402
from models.types import ImageRGB  # noqa: E402
from models.zoo import FaceEngineConfig, open_engine  # noqa: E402
from scripts.bench.results import BenchResults, Figure, Series, write_results  # noqa: E402

SIZES = ((640, 480), (1280, 720))
THREADS = (1, 2)
BASELINE = "face_recognition 1.3 (HOG, upsample=1)"
NOT_INSTALLED = "face_recognition is not installed: pip install -e '.[bench]' for the baseline"
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


def results_of(
    ours: dict[tuple[int, int, int], float], theirs: dict[tuple[int, int], float | None]
) -> BenchResults:
    """Figures (ms per frame next to face_recognition's) and a plot over frame sizes."""
    results = BenchResults(
        "faces",
        "One face in a frame cut from the sample group photo: detection, alignment, embedding "
        f"and quality with the default pack, next to {BASELINE} on the same frame.",
    )
    for (width, height, threads), total in ours.items():
        baseline = theirs[width, height]
        results.figures.append(
            Figure(
                f"ms per frame {width}x{height}, {threads} thread(s)", total, "ms",
                f"{BASELINE}, ms", math.nan if baseline is None else baseline, "lower",
            )
        )  # fmt: skip
    lines = {f"ours, {t} thread(s)": [ours[w, h, t] for w, h in SIZES] for t in THREADS}
    measured = [ms for ms in (theirs[size] for size in SIZES) if ms is not None]
    if len(measured) == len(SIZES):
        lines[BASELINE] = measured
    else:
        results.notes.append(NOT_INSTALLED)
    results.series.append(
        Series("Time per frame", "frame width (px)", "ms per frame", [w for w, _ in SIZES], lines,
               log_y=True)
    )  # fmt: skip
    return results


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=default_model_dir())
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--detector", default=None)
    parser.add_argument(
        "--faces-dir", type=Path, default=Path(__file__).parents[3] / "shared/faces"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    photo = load_image(pack_dir(args.model_dir, "anju-open") / "samples/t1.jpg")
    ours: dict[tuple[int, int, int], float] = {}
    theirs: dict[tuple[int, int], float | None] = {}
    notes = []
    for width, height in SIZES:
        frame = one_face_frame(photo, width, height)
        baseline = face_recognition_ms(frame, max(3, args.repeats // 4))
        theirs[width, height] = baseline
        for threads in THREADS:
            config = FaceEngineConfig(
                model_dir=args.model_dir,
                detector=args.detector,
                runtime=RuntimeConfig(intra_op_threads=threads),
            )
            times = stage_times(open_engine(config), frame, args.repeats)
            ours[width, height, threads] = times["total"]
            stages = " ".join(f"{k}={v:.1f}ms" for k, v in times.items())
            notes.append(f"{width}x{height} threads={threads}: {stages}")
            print(f"{width}x{height} threads={threads} {stages} fps={1000 / times['total']:.1f}")
        if baseline is not None:
            print(
                f"{width}x{height} face_recognition(hog, upsample=1)={baseline:.1f}ms "
                f"fps={1000 / baseline:.1f}"
            )
    if args.faces_dir.is_dir():
        engine = open_engine(FaceEngineConfig(model_dir=args.model_dir, detector=args.detector))
        agreement = decision_agreement(engine, args.faces_dir)
        notes.append(f"decisions on {args.faces_dir.name}: {agreement}")
        print(f"decisions on {args.faces_dir}: {agreement}")
    baseline = theirs[SIZES[0]]
    print(
        f"ratio_vs_face_recognition: {baseline / ours[(*SIZES[0], 1)]:.1f}"
        if baseline
        else "ratio_vs_face_recognition: n/a (pip install -e '.[bench]' for the baseline)"
    )
    if args.json:
        results = results_of(ours, theirs)
        results.notes += notes
        write_results(args.json, results)


if __name__ == "__main__":
    main()
