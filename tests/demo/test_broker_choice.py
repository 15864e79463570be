"""The demo's broker choice on a machine without Mosquitto (its lookup made to find nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.demo import broker as demo_broker
from scripts.demo.procs import Children, DemoError, port_open


@pytest.fixture
def no_mosquitto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mosquitto looks missing."""
    monkeypatch.setattr(demo_broker, "mosquitto_binary", lambda: None)


@pytest.mark.usefixtures("no_mosquitto")
def test_auto_starts_the_embedded_broker_and_sets_clients_to_3_1_1(tmp_path: Path) -> None:
    children = Children(tmp_path / "logs")
    try:
        started = demo_broker.start_broker(tmp_path / "broker", children)
        assert (started.kind, started.protocol) == ("embedded", "3.1.1")
        assert port_open(started.port)
        assert started.client_settings("gate-1") == {
            "host": "127.0.0.1",
            "port": started.port,
            "protocol": "3.1.1",
            "username": "gate-1",
        }
    finally:
        children.stop_all()
    assert not port_open(started.port)


@pytest.mark.usefixtures("no_mosquitto")
def test_asking_for_a_missing_mosquitto_names_the_fallback(tmp_path: Path) -> None:
    with pytest.raises(DemoError, match="--broker embedded"):
        demo_broker.start_broker(tmp_path / "broker", Children(tmp_path / "logs"), "mosquitto")
