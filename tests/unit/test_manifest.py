"""Pack manifests: every shipped pack validates; the default pack pins everything."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml
from pydantic import ValidationError

from models.errors import ModelError
from models.manifest import PackManifest, load_manifest, pack_names


def test_every_shipped_pack_validates() -> None:
    assert "anju-open" in pack_names()
    for name in pack_names():
        assert load_manifest(name).name == name


def test_default_pack_pins_every_input_and_copied_output() -> None:
    manifest = load_manifest("anju-open")
    assert manifest.commercial_use
    for source in manifest.sources.values():
        assert len(source.archive_sha256) == 64
        assert source.licence
        assert all(len(f.sha256) == 64 for f in source.files.values())
    for entry in manifest.models:
        assert entry.licence
        assert all(o.sha256 is not None and len(o.sha256) == 64 for o in entry.outputs)
        if entry.role == "embedder":
            assert entry.threshold is not None and entry.dimension == 128


def _raw() -> dict[str, object]:
    text = (resources.files("models") / "packs/anju-open.yaml").read_text(encoding="utf-8")
    return dict(yaml.safe_load(text))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"unexpected_key": 1}, "unexpected_key"),
        ({"defaults": {"detector": "nope", "embedder": "sface"}}, "nope"),
        ({"fusion": {"weights": {"sface": 0.7, "dlib_resnet": 0.7}, "threshold": 0.5}}, "sum to 1"),
    ],
)
def test_bad_manifest_names_the_problem(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PackManifest.model_validate(_raw() | change)


def test_unknown_pack_lists_valid_ones() -> None:
    with pytest.raises(ModelError, match="anju-open"):
        load_manifest("no-such-pack")


def test_unknown_model_lists_valid_ones() -> None:
    with pytest.raises(ModelError, match="yunet"):
        load_manifest("anju-open").model("nope")
