"""Liveness evaluation on generated presentations: APCER per attack type and BPCER.

Bona fide: each face of the sample photo, enrolled, doing the random head turns the gate asks
for (a depth-parallax rendering of the real photo turning). Attacks: the same faces as a flat
printed photo moved in front of the camera (translation, scale, in-plane tilt; its yaw cannot
change), and a replayed clip of a bona fide session answering a different, earlier challenge.
APCER = attacks passed / attacks; BPCER = bona fide refused / bona fide (ISO/IEC 30107-3).
Uses the default challenge settings (2 turns of 14 degrees within 8 s). The baseline in the same
run is the same gate without a liveness check: the share of the same attack presentations it
grants, and of bona fide walk-ups it refuses. ``--json PATH`` also writes the figures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from models.engine import FaceEngine  # noqa: E402
from models.paths import default_model_dir, pack_dir  # noqa: E402
from models.types import ImageRGB  # noqa: E402
from models.zoo import open_engine  # noqa: E402
from scripts.bench.results import BenchResults, Figure, write_results  # noqa: E402
from tests.edge import videogen  # noqa: E402
from tests.edge.videogen import FaceCut  # noqa: E402
from tests.edge.vision.rig import Enrolled, VisionRig, answer_challenge  # noqa: E402

LIMIT_S = 8.0


def rig_for(engine: FaceEngine, cut: FaceCut, liveness: str = "always") -> VisionRig:
    """A gate requiring liveness (or not: ``liveness="never"``), with ``cut`` enrolled."""
    rig = VisionRig(engine, liveness=liveness, limit_s=LIMIT_S)
    rig.enrol(Enrolled("person"), cut)
    return rig


def outcome(rig: VisionRig, frames: list[ImageRGB]) -> str:
    """The liveness outcome of the one decision ``frames`` lead to ("none" if none)."""
    decisions = rig.feed(frames + list(videogen.empty_scene(25)))
    return decisions[0].liveness if decisions else "none"


def granted_without_check(engine: FaceEngine, cut: FaceCut, frames: list[ImageRGB]) -> bool:
    """Whether a gate without a liveness check grants the presentation ``frames`` show."""
    decisions = rig_for(engine, cut, "never").feed(frames + list(videogen.empty_scene(25)))
    return bool(decisions) and decisions[0].verdict.decision == "granted"


def bona_fide(engine: FaceEngine, cut: FaceCut) -> str:
    """A live person answering the challenge."""
    decisions = answer_challenge(rig_for(engine, cut), cut)
    return decisions[0].liveness if decisions else "none"


def photo_frames(cut: FaceCut, seed: int) -> list[ImageRGB]:
    """A printed photo waved in front of the camera for longer than the time limit."""
    return list(videogen.flat_photo(cut, int(LIMIT_S * videogen.FPS) + 15, seed))


def replay_frames(engine: FaceEngine, cut: FaceCut) -> list[ImageRGB]:
    """A recording of a bona fide session (for its own challenge), to replay to a new one."""
    recorder = rig_for(engine, cut)
    recorder.feed(list(videogen.turning_head(cut, [])))
    turns = [35.0 if d == "left" else -35.0 for d in recorder.prompts[-1]]
    return list(videogen.turning_head(cut, turns))


def percent(count: int, total: int) -> float:
    """``count`` of ``total`` in percent."""
    return 100 * count / total


def results_of(results: dict[str, list[str]], unchecked: dict[str, list[bool]]) -> BenchResults:
    """APCER per attack and BPCER, next to the same gate without a liveness check."""
    out = BenchResults(
        "liveness",
        "Generated presentations of each face of the sample photo at a gate that requires the "
        f"head-turn challenge (2 turns within {LIMIT_S:.0f} s), next to the same gate without "
        "a liveness check fed the same frames.",
    )
    for attack in ("photo", "replay"):
        passed, granted = results[attack].count("passed"), sum(unchecked[attack])
        total = len(results[attack])
        out.figures.append(
            Figure(
                f"APCER {attack} attack", percent(passed, total), "%",
                "attacks granted without liveness check, %", percent(granted, total), "lower",
            )
        )  # fmt: skip
    total = len(results["bona_fide"])
    refused = total - results["bona_fide"].count("passed")
    refused_unchecked = total - sum(unchecked["bona_fide"])
    out.figures.append(
        Figure(
            "BPCER", percent(refused, total), "%", "bona fide refused without liveness check, %",
            percent(refused_unchecked, total), "lower",
        )
    )  # fmt: skip
    return out


def main() -> None:
    """Run the evaluation and print APCER/BPCER."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=2, help="presentations per face and type")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    engine = open_engine()
    cuts = videogen.cut_faces(engine, pack_dir(default_model_dir(), "anju-open") / "samples/t1.jpg")
    results: dict[str, list[str]] = {"bona_fide": [], "photo": [], "replay": []}
    unchecked: dict[str, list[bool]] = {"bona_fide": [], "photo": [], "replay": []}
    for index, cut in enumerate(cuts):
        for trial in range(args.trials):
            results["bona_fide"].append(bona_fide(engine, cut))
            walk_up = list(videogen.turning_head(cut, []))
            unchecked["bona_fide"].append(granted_without_check(engine, cut, walk_up))
            for attack, frames in (
                ("photo", photo_frames(cut, seed=trial)),
                ("replay", replay_frames(engine, cut)),
            ):
                results[attack].append(outcome(rig_for(engine, cut), frames))
                unchecked[attack].append(granted_without_check(engine, cut, frames))
        print(f"face {index}: " + ", ".join(f"{k}={v[-args.trials :]}" for k, v in results.items()))
    for attack in ("photo", "replay"):
        passed = results[attack].count("passed")
        print(f"APCER {attack}: {passed}/{len(results[attack])} = "
              f"{passed / len(results[attack]):.1%} "
              f"(without liveness check: {sum(unchecked[attack])} granted)")  # fmt: skip
    refused = len(results["bona_fide"]) - results["bona_fide"].count("passed")
    total = len(results["bona_fide"])
    print(f"BPCER: {refused}/{total} = {refused / total:.1%} "
          f"(without liveness check: {total - sum(unchecked['bona_fide'])} refused)")  # fmt: skip
    if args.json:
        write_results(args.json, results_of(results, unchecked))


if __name__ == "__main__":
    main()
