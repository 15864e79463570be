"""`make demo`: run the face engine over the sample group photo and show what it found.

Later capabilities grow this into the whole system (broker, central, gate and outlet nodes).
"""

from __future__ import annotations

import itertools
import sys
import time

from models.cli import face_summary
from models.images import load_image
from models.manifest import load_manifest
from models.paths import pack_dir
from models.zoo import FaceEngineConfig, open_engine


def main() -> int:
    """Detect, assess and embed every face of the sample photo; compare them pairwise."""
    config = FaceEngineConfig()
    manifest = load_manifest(config.pack)
    photo = pack_dir(config.model_dir, config.pack) / "samples/t1.jpg"
    engine = open_engine(config)
    image = load_image(photo)
    started = time.perf_counter()
    faces = engine.analyze(image)
    elapsed_ms = (time.perf_counter() - started) * 1000
    print(
        f"Anju face engine — pack {manifest.name}: detector {manifest.defaults.detector}, "
        f"embedder {manifest.defaults.embedder} (threshold {engine.threshold})"
    )
    print(
        f"{photo.name} ({image.shape[1]}x{image.shape[0]}): {len(faces)} faces "
        f"in {elapsed_ms:.0f} ms"
    )
    for index, face in enumerate(faces):
        print(f"  face {index}: {face_summary(face)}")
    print("Pairwise similarity (all six are different people, so all should be 'different'):")
    for (i, a), (j, b) in itertools.combinations(enumerate(faces), 2):
        similarity = engine.similarity(a.template, b.template)
        verdict = "SAME" if engine.is_same(similarity) else "different"
        print(f"  {i}-{j}: {similarity:+.3f} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
