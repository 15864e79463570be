"""Private test brokers run as root in containers: one ``user root`` line, never two."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.services import port_open, private_mosquitto, run_as_line

AS_ROOT = os.geteuid() == 0


@pytest.mark.parametrize(
    ("settings", "added"),
    [
        ("allow_anonymous true\n", "user root\n" if AS_ROOT else ""),
        ("allow_anonymous true\nuser root\n", ""),
        ("user   mosquitto\n", ""),
        ("# user root\nallow_anonymous true\n", "user root\n" if AS_ROOT else ""),
    ],
)
def test_run_as_line(settings: str, added: str) -> None:
    assert run_as_line(settings) == added


@pytest.mark.parametrize("settings", ["", "allow_anonymous true\nuser root\n"])
def test_broker_starts_in_a_private_folder(tmp_path: Path, settings: str) -> None:
    folder = tmp_path / "broker"
    with private_mosquitto(folder, settings) as broker:
        assert port_open(broker.port)
        lines = broker.config.read_text().splitlines()
    assert lines.count("user root") == (1 if AS_ROOT or settings else 0)
    assert (folder / "mosquitto.db").exists()  # it could write its persistence file there
