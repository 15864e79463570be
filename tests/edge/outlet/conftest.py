"""Fixtures for the outlet tests: photo textures, an outlet configuration, the inspector."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from edge.outlet.config import OutletConfig
from edge.outlet.evidence import ParcelEvidenceStore
from edge.outlet.inspector import OutletInspector
from edge.outlet.sender import SenderDesk
from tests.edge.outlet.scenes import Textures

HASH_KEY = b"outlet-test-hash-key-0123456789"
VALID_ID = "11010519491231002X"


@pytest.fixture(scope="session")
def textures(t1_image_path: Path) -> Textures:
    """Layers for generated videos, cut from the real group photo."""
    return Textures(t1_image_path)


def outlet_config_data(tmp_path: Path) -> dict[str, object]:
    """A complete outlet configuration for tests, as YAML-ready data."""
    (tmp_path / "hash.key").write_bytes(HASH_KEY)
    return {
        "device": {
            "device_id": "outlet-1",
            "site_id": "district-1",
            "outlet_id": "outlet-1",
            "key_file": str(tmp_path / "device.key"),
        },
        "desk_camera": {"camera_id": "desk", "gate_id": "desk-1", "source": "unused.avi"},
        "sender": {"hash_key_file": str(tmp_path / "hash.key")},
        "xray": {"window_s": 5},
        "waybill": {"ocr": False},
        "evidence": {"folder": str(tmp_path / "evidence")},
        "transport": {"outbox": {"path": str(tmp_path / "outbox.sqlite3")}},
    }


@pytest.fixture
def outlet_config(tmp_path: Path) -> OutletConfig:
    """The test configuration, validated."""
    return OutletConfig.model_validate(outlet_config_data(tmp_path))


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[dict[str, object]], Path]:
    """Write a YAML configuration file and return its path."""

    def write(data: dict[str, object]) -> Path:
        path = tmp_path / "outlet.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        return path

    return write


@pytest.fixture
def inspector(outlet_config: OutletConfig) -> OutletInspector:
    """An inspector over the test configuration (no OCR, no detector)."""
    return OutletInspector(
        outlet_config,
        SenderDesk(HASH_KEY, outlet_config.sender.lead_s),
        ParcelEvidenceStore(outlet_config.evidence),
    )
