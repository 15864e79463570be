"""Liveness evaluation on generated presentations: APCER per attack type and BPCER.

Bona fide: each face of the sample photo, enrolled, doing the random head turns the gate asks
for (a depth-parallax rendering of the real photo turning). Attacks: the same faces as a flat
printed photo moved in front of the camera (translation, scale, in-plane tilt; its yaw cannot
change), and a replayed clip of a bona fide session answering a different, earlier challenge.
APCER = attacks passed / attacks; BPCER = bona fide refused / bona fide (ISO/IEC 30107-3).
Uses the default challenge settings (2 turns of 14 degrees within 8 s).
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
from tests.edge import videogen  # noqa: E402
from tests.edge.videogen import FaceCut  # noqa: E402
from tests.edge.vision.rig import Enrolled, VisionRig, answer_challenge  # noqa: E402

LIMIT_S = 8.0


def rig_for(engine: FaceEngine, cut: FaceCut) -> VisionRig:
    """A gate requiring liveness, with ``cut`` enrolled."""
    rig = VisionRig(engine, liveness="always", limit_s=LIMIT_S)
    rig.enrol(Enrolled("person"), cut)
    return rig


def outcome(rig: VisionRig, frames: list[ImageRGB]) -> str:
    """The liveness outcome of the one decision ``frames`` lead to ("none" if none)."""
    decisions = rig.feed(frames + list(videogen.empty_scene(25)))
    return decisions[0].liveness if decisions else "none"


def bona_fide(engine: FaceEngine, cut: FaceCut) -> str:
    """A live person answering the challenge."""
    decisions = answer_challenge(rig_for(engine, cut), cut)
    return decisions[0].liveness if decisions else "none"


def photo_attack(engine: FaceEngine, cut: FaceCut, seed: int) -> str:
    """A printed photo waved in front of the camera for longer than the time limit."""
    frames = list(videogen.flat_photo(cut, int(LIMIT_S * videogen.FPS) + 15, seed))
    return outcome(rig_for(engine, cut), frames)


def replay_attack(engine: FaceEngine, cut: FaceCut) -> str:
    """A recording of a bona fide session (for its own challenge) replayed to a new one."""
    recorder = rig_for(engine, cut)
    recorder.feed(list(videogen.turning_head(cut, [])))
    turns = [35.0 if d == "left" else -35.0 for d in recorder.prompts[-1]]
    return outcome(rig_for(engine, cut), list(videogen.turning_head(cut, turns)))


def main() -> None:
    """Run the evaluation and print APCER/BPCER."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=2, help="presentations per face and type")
    args = parser.parse_args()
    engine = open_engine()
    cuts = videogen.cut_faces(engine, pack_dir(default_model_dir(), "anju-open") / "samples/t1.jpg")
    results: dict[str, list[str]] = {"bona_fide": [], "photo": [], "replay": []}
    for index, cut in enumerate(cuts):
        for trial in range(args.trials):
            results["bona_fide"].append(bona_fide(engine, cut))
            results["photo"].append(photo_attack(engine, cut, seed=trial))
            results["replay"].append(replay_attack(engine, cut))
        print(f"face {index}: " + ", ".join(f"{k}={v[-args.trials :]}" for k, v in results.items()))
    for attack in ("photo", "replay"):
        passed = results[attack].count("passed")
        print(f"APCER {attack}: {passed}/{len(results[attack])} = "
              f"{passed / len(results[attack]):.1%}")  # fmt: skip
    refused = len(results["bona_fide"]) - results["bona_fide"].count("passed")
    total = len(results["bona_fide"])
    print(f"BPCER: {refused}/{total} = {refused / total:.1%}")


if __name__ == "__main__":
    main()
