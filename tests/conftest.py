"""Shared fixtures: the default model pack, built once per run, and a face engine over it;
the root logger left to pytest."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from models.build import build_pack
from models.engine import FaceEngine
from models.manifest import load_manifest
from models.paths import default_model_dir, pack_dir, sources_dir
from models.sources import read_member
from models.zoo import FaceEngineConfig, open_engine

PACK = "anju-open"


def _leave_logging_to_pytest(*_args: Any, **_kwargs: Any) -> None:
    """``logging.basicConfig`` while testing: does nothing."""


@pytest.fixture(autouse=True)
def _root_logger_stays_pytests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Command lines run in-process (``main([...])``) set up logging with
    ``basicConfig(force=True)``: that closes pytest's own log handlers and leaves on the root
    logger a handler writing to the test's captured stderr, which pytest closes after the test,
    so every later warning, from any thread, printed ``--- Logging error ---``."""
    monkeypatch.setattr(logging, "basicConfig", _leave_logging_to_pytest)


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The model directory with the default pack built (idempotent: usually a no-op)."""
    directory = default_model_dir()
    build_pack(load_manifest(PACK), directory, progress=False)
    return directory


@pytest.fixture(scope="session")
def pack_path(model_dir: Path) -> Path:
    """Folder of the built default pack."""
    return pack_dir(model_dir, PACK)


@pytest.fixture(scope="session")
def t1_image_path(pack_path: Path) -> Path:
    """The six-face group photo shipped in the insightface wheel."""
    return pack_path / "samples/t1.jpg"


@pytest.fixture(scope="session")
def dlib_dat_path(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dlib's ResNet model file, read from its pinned source archive."""
    source = load_manifest(PACK).sources["dlib_models"]
    data = read_member(sources_dir(model_dir) / source.archive, source.files["resnet"].member)
    path = tmp_path_factory.mktemp("dlib") / "dlib_face_recognition_resnet_model_v1.dat"
    path.write_bytes(data)
    return path


@pytest.fixture(scope="session")
def engine(model_dir: Path) -> FaceEngine:
    """The default face engine (pack defaults, one thread)."""
    return open_engine(FaceEngineConfig(model_dir=model_dir))
