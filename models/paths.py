"""Where model packs live on disk."""

from __future__ import annotations

import os
from pathlib import Path

MODEL_DIR_ENV = "ANJU_MODEL_DIR"


def default_model_dir() -> Path:
    """``$ANJU_MODEL_DIR`` when set, otherwise ``~/.cache/anju/models``."""
    configured = os.environ.get(MODEL_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache/anju/models"


def pack_dir(model_dir: Path, pack: str) -> Path:
    """The folder holding the built files of ``pack``."""
    return model_dir / pack


def sources_dir(model_dir: Path) -> Path:
    """The folder caching downloaded source archives."""
    return model_dir / "_sources"
