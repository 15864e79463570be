"""The secured deployment, started once for the module's tests (it takes a while to start)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.edge.videogen import FaceCut, face_cuts
from tests.support.services import unavailable
from tests.system.stack import System, secured_system

__all__ = ["face_cuts", "system"]


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, face_cuts: list[FaceCut]) -> Iterator[System]:
    """Broker with the generated configuration and central serving, the first face enrolled."""
    if shutil.which("mosquitto") is None:
        unavailable("the mosquitto binary is not installed (apt-get install mosquitto)")
    with secured_system(tmp_path_factory.mktemp("system"), face_cuts[0].template) as running:
        yield running
