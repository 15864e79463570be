"""Open a built model pack as a face engine, as the configuration asks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.align import ARCFACE_112, DLIB_150
from models.detectors.registry import build_detector
from models.embedders.onnx_embedder import EmbedderSpec, OnnxEmbedder
from models.engine import FaceEngine, WeightedEmbedder
from models.errors import ModelError
from models.manifest import ModelEntry, PackManifest, load_manifest
from models.paths import default_model_dir, pack_dir
from models.sessions import RuntimeConfig, create_session
from models.sources import sha256_file
from models.types import Detector


class FaceEngineConfig(BaseModel):
    """Which pack, detector and embedder to run, and how."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_dir: Path = Field(default_factory=default_model_dir, description="Built packs live here.")
    pack: str = Field(default="anju-open", description="Model pack name (anju models list).")
    detector: str | None = Field(default=None, description="Detector name; pack default if unset.")
    embedder: str | None = Field(
        default=None, description="Embedder name or 'fusion'; pack default if unset."
    )
    min_face_px: float = Field(default=40, ge=0, description="Smallest face side to report.")
    detection_threshold: float | None = Field(
        default=None, ge=0, le=1, description="Detector score threshold; detector default if unset."
    )
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)

    @field_validator("model_dir")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()


_EMBEDDER_SPECS: dict[str, Callable[[int], EmbedderSpec]] = {
    "dlib_resnet": lambda dim: EmbedderSpec("dlib_resnet", DLIB_150, dim),
    "sface": lambda dim: EmbedderSpec("sface", ARCFACE_112, dim),
    "arcface": lambda dim: EmbedderSpec("arcface", ARCFACE_112, dim, 127.5, 1 / 127.5),
}


def model_paths(config: FaceEngineConfig, entry: ModelEntry, verify: bool = True) -> list[Path]:
    """Built files of ``entry``, checked against the manifest's digests when ``verify``."""
    folder = pack_dir(config.model_dir, config.pack)
    paths = []
    for output in entry.outputs:
        path = folder / output.file
        if not path.is_file() and entry.builder == "user_supplied":
            raise ModelError(f"{path} is missing: place the pack's files there (see README)")
        if not path.is_file():
            raise ModelError(f"{path} is missing: run 'anju models build --pack {config.pack}'")
        if verify and output.sha256 and sha256_file(path) != output.sha256:
            raise ModelError(f"{path} does not match the manifest: run 'anju models build' again")
        paths.append(path)
    return paths


def open_detector(config: FaceEngineConfig, manifest: PackManifest | None = None) -> Detector:
    """The configured detector of the configured pack."""
    manifest = manifest or load_manifest(config.pack)
    entry = manifest.model(config.detector or manifest.defaults.detector)
    if entry.role != "detector":
        raise ModelError(f"{entry.name!r} is a {entry.role}, not a detector")
    sessions = [create_session(p, config.runtime) for p in model_paths(config, entry)]
    return build_detector(entry.name, sessions, config.min_face_px, config.detection_threshold)


def open_embedders(config: FaceEngineConfig, manifest: PackManifest) -> list[WeightedEmbedder]:
    """The configured embedders with their fusion weights."""
    choice = config.embedder or manifest.defaults.embedder
    if choice == "fusion":
        if manifest.fusion is None:
            raise ModelError(f"pack {manifest.name!r} has no fusion")
        weighted = list(manifest.fusion.weights.items())
    else:
        weighted = [(choice, 1.0)]
    result = []
    for name, weight in weighted:
        entry = manifest.model(name)
        if entry.role != "embedder" or entry.dimension is None or name not in _EMBEDDER_SPECS:
            raise ModelError(f"{name!r} is not an embedder this engine can run")
        if entry.threshold is None:
            raise ModelError(f"embedder {name!r} has no calibrated threshold in its manifest")
        session = create_session(model_paths(config, entry)[0], config.runtime)
        embedder = OnnxEmbedder(session, _EMBEDDER_SPECS[name](entry.dimension))
        result.append(WeightedEmbedder(embedder, weight, entry.threshold))
    return result


def threshold_for(config: FaceEngineConfig, manifest: PackManifest) -> float:
    """The calibrated similarity threshold of the configured embedder choice."""
    choice = config.embedder or manifest.defaults.embedder
    if choice == "fusion" and manifest.fusion is not None:
        return manifest.fusion.threshold
    threshold = manifest.model(choice).threshold
    if threshold is None:
        raise ModelError(f"embedder {choice!r} has no calibrated threshold in its manifest")
    return threshold


def open_engine(config: FaceEngineConfig | None = None) -> FaceEngine:
    """A face engine over the configured pack (default: the default pack, its defaults)."""
    config = config or FaceEngineConfig()
    manifest = load_manifest(config.pack)
    return FaceEngine(
        detector=open_detector(config, manifest),
        embedders=open_embedders(config, manifest),
        threshold=threshold_for(config, manifest),
    )
