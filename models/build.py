"""Build a model pack from its pinned sources into the model directory, idempotently."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from models.converters.dlib_resnet import convert_dlib_resnet_bytes
from models.converters.sface import clean_sface
from models.converters.yunet import clean_yunet
from models.errors import ModelError
from models.manifest import ModelEntry, PackManifest
from models.paths import pack_dir, sources_dir
from models.sources import ensure_archive, read_member, sha256_bytes, sha256_file

log = logging.getLogger(__name__)

Builder = Callable[[list[bytes]], list[bytes]]


def _copy(inputs: list[bytes]) -> list[bytes]:
    return inputs


def _sface(inputs: list[bytes]) -> list[bytes]:
    return [clean_sface(inputs[0])]


def _yunet(inputs: list[bytes]) -> list[bytes]:
    return [clean_yunet(inputs[0])]


def _dlib(inputs: list[bytes]) -> list[bytes]:
    return [convert_dlib_resnet_bytes(inputs[0])]


BUILDERS: dict[str, Builder] = {
    "copy": _copy,
    "yunet_clean": _yunet,
    "sface_clean": _sface,
    "dlib_resnet": _dlib,
}


@dataclass(frozen=True)
class BuildResult:
    """What one build did for one model."""

    model: str
    built: bool
    """False when every output was already present with the pinned digest."""
    outputs: dict[str, str]
    """Output file name → sha256."""


def build_pack(manifest: PackManifest, model_dir: Path, progress: bool = True) -> list[BuildResult]:
    """Build every model of ``manifest`` into ``model_dir``; skip outputs already verified."""
    if any(m.builder == "user_supplied" for m in manifest.models):
        raise ModelError(f"pack {manifest.name!r} is user-supplied: place its files, do not build")
    target = pack_dir(model_dir, manifest.name)
    results = []
    for entry in tqdm(manifest.models, desc=f"building {manifest.name}", disable=not progress):
        results.append(_build_model(manifest, entry, model_dir, target))
    return results


def _build_model(
    manifest: PackManifest, entry: ModelEntry, model_dir: Path, target: Path
) -> BuildResult:
    if all(_verified(target / o.file, o.sha256) for o in entry.outputs):
        return BuildResult(
            entry.name, False, {o.file: sha256_file(target / o.file) for o in entry.outputs}
        )
    inputs = [_read_input(manifest, ref, model_dir) for ref in entry.inputs]
    log.info("building %s with %s", entry.name, entry.builder)
    produced = BUILDERS[entry.builder](inputs)
    digests = {}
    for output, data in zip(entry.outputs, produced, strict=True):
        digest = sha256_bytes(data)
        if output.sha256 is not None and digest != output.sha256:
            raise ModelError(
                f"{entry.name}: built {output.file} has sha256 {digest}, the manifest pins "
                f"{output.sha256} (a converter or dependency changed its output)"
            )
        _write_atomically(target / output.file, data)
        digests[output.file] = digest
    return BuildResult(entry.name, True, digests)


def _verified(path: Path, sha256: str | None) -> bool:
    return path.is_file() and sha256 is not None and sha256_file(path) == sha256


def _read_input(manifest: PackManifest, ref: str, model_dir: Path) -> bytes:
    source_name, _, file_name = ref.partition(":")
    source = manifest.sources[source_name]
    wanted = source.files[file_name]
    data = read_member(ensure_archive(source, sources_dir(model_dir)), wanted.member)
    if (digest := sha256_bytes(data)) != wanted.sha256:
        raise ModelError(f"{ref}: {wanted.member} has sha256 {digest}, pinned {wanted.sha256}")
    return data


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(handle.name, 0o644)
    Path(handle.name).replace(path)
