"""The ``anju`` command line: results, and clear errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anju.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_detect_json_finds_six_faces(
    capsys: pytest.CaptureFixture[str], model_dir: Path, t1_image_path: Path
) -> None:
    status, out, _ = _run(
        capsys, "faces", "detect", str(t1_image_path), "--json", "--model-dir", str(model_dir)
    )
    assert status == 0
    faces = json.loads(out)["faces"]
    assert len(faces) == 6
    assert all(len(face["landmarks_xy"]) == 5 for face in faces)


def test_compare_group_photo_with_itself_notes_the_largest_face(
    capsys: pytest.CaptureFixture[str], model_dir: Path, t1_image_path: Path
) -> None:
    status, out, err = _run(
        capsys,
        "faces",
        "compare",
        str(t1_image_path),
        str(t1_image_path),
        "--json",
        "--model-dir",
        str(model_dir),
    )
    assert status == 0
    result = json.loads(out)
    assert result["same"] is True and result["similarity"] > 0.99
    assert "has 6 faces; the largest was compared" in err


def _blank(path: Path) -> Path:
    Image.fromarray(np.full((240, 320, 3), 127, np.uint8)).save(path)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.jpg", "no such file"),
        (lambda p: (p / "junk.jpg").write_bytes(b"\x00garbage") and p / "junk.jpg", "cannot read"),
        (lambda p: _blank(p / "blank.png"), "no face found"),
    ],
)
def test_bad_inputs_exit_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], model_dir: Path, tmp_path: Path, make: object, message: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    status, _, err = _run(capsys, "faces", "embed", str(path), "--model-dir", str(model_dir))
    assert status == 2
    assert message in err


def test_missing_models_say_how_to_build(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, _, err = _run(
        capsys, "faces", "detect", str(tmp_path / "x.jpg"), "--model-dir", str(tmp_path)
    )
    assert status == 2
    assert "anju models build" in err


def test_unknown_detector_lists_the_valid_ones(
    capsys: pytest.CaptureFixture[str], model_dir: Path, t1_image_path: Path
) -> None:
    status, _, err = _run(
        capsys,
        "faces",
        "detect",
        str(t1_image_path),
        "--detector",
        "nope",
        "--model-dir",
        str(model_dir),
    )
    assert status == 2
    assert "yunet" in err and "mtcnn" in err


def test_models_list_shows_licences_and_sources(
    capsys: pytest.CaptureFixture[str], model_dir: Path
) -> None:
    status, out, _ = _run(capsys, "models", "list", "--model-dir", str(model_dir))
    assert status == 0
    assert "CC0-1.0" in out and "face-recognition-models==0.3.0" in out
    assert "NON-COMMERCIAL ONLY" in out


def test_console_script_runs(model_dir: Path) -> None:
    anju = Path(sys.executable).with_name("anju")
    done = subprocess.run(
        [str(anju), "models", "list", "--model-dir", str(model_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "anju-open" in done.stdout


def _crop_dataset(root: Path, t1_image_path: Path) -> Path:
    """Two differently sized crops of three of the six faces, one folder per person."""
    photo = Image.open(t1_image_path).convert("RGB")
    boxes = [(400, 200, 640, 480), (0, 200, 230, 470), (220, 90, 420, 330)]
    for index, (x1, y1, x2, y2) in enumerate(boxes):
        folder = root / f"person{index}"
        folder.mkdir(parents=True)
        crop = photo.crop((x1, y1, x2, y2))
        crop.save(folder / "1.png")
        crop.resize((int(crop.width * 1.3), int(crop.height * 1.3))).save(folder / "2.jpg")
    return root


def test_evaluate_counts_pairs_and_errors(
    capsys: pytest.CaptureFixture[str], model_dir: Path, t1_image_path: Path, tmp_path: Path
) -> None:
    dataset = _crop_dataset(tmp_path / "set", t1_image_path)
    status, out, _ = _run(
        capsys,
        "faces",
        "evaluate",
        str(dataset),
        "--json",
        "--embedder",
        "fusion",
        "--model-dir",
        str(model_dir),
    )
    assert status == 0
    report = json.loads(out)
    assert report["images"] == 6 and report["identities"] == 3
    fused = report["scores"][0]
    assert (fused["genuine_pairs"], fused["impostor_pairs"]) == (3, 12)
    assert (fused["false_accepts"], fused["false_rejects"]) == (0, 0)
    assert {s["scorer"] for s in report["scores"]} == {"fused", "sface", "dlib_resnet"}
    assert fused["roc"] and set(fused["roc"][0]) == {"threshold", "far", "frr"}


def test_example_config_runs(
    capsys: pytest.CaptureFixture[str], model_dir: Path, t1_image_path: Path
) -> None:
    example = Path(__file__).parents[2] / "configs/face_engine.example.yaml"
    status, out, _ = _run(
        capsys,
        "faces",
        "detect",
        str(t1_image_path),
        "--json",
        "--config",
        str(example),
        "--model-dir",
        str(model_dir),
    )
    assert status == 0
    assert len(json.loads(out)["faces"]) == 6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("face_engine:\n  detektor: yunet\n", "detektor: Extra inputs are not permitted"),
        ("face_engine:\n  runtime:\n    providers: [tpu]\n", "runtime.providers.0"),
        ("face_engine:\n  min_face_px: -3\n", "min_face_px"),
        ("face_engine: [unclosed\n", "cannot read configuration"),
    ],
)
def test_bad_config_names_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, message: str
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    status, _, err = _run(capsys, "faces", "detect", "x.jpg", "--config", str(config))
    assert status == 2
    assert message in err
