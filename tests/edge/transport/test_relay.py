"""Relay drivers: a real command, a local HTTP controller, the log, GPIO without its library."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from edge.comms.config import TransportConfig
from edge.io.gpio import RelayError
from edge.io.relay import CommandRelay, HttpRelay, RelayConfig, build_relay

RELAY = TypeAdapter[RelayConfig](RelayConfig)


def _relay(settings: dict[str, Any]) -> Any:
    return build_relay(RELAY.validate_python(settings))


@pytest.mark.parametrize(
    ("argv", "failures"),
    [(["true"], 0), (["false"], 1), (["/nonexistent/relay-tool"], 1), (["sleep", "5"], 1)],
)
def test_command_driver(argv: list[str], failures: int) -> None:
    relay = _relay({"driver": "command", "argv": argv, "timeout_s": 0.5})
    assert isinstance(relay, CommandRelay)
    relay.pulse("east", 0.5)
    assert relay.failures == failures


def test_command_driver_fills_in_gate_and_pulse(tmp_path: Path) -> None:
    out = tmp_path / "pulse.txt"
    script = f'echo "$0 $1" > {out}'
    relay = _relay({"driver": "command", "argv": ["sh", "-c", script, "{gate_id}", "{pulse_s}"]})
    relay.pulse("east", 1.5)
    assert out.read_text().split() == ["east", "1.5"]


class _Controller:
    """A relay controller over HTTP that fails its first ``fail_first`` requests."""

    def __init__(self, fail_first: int) -> None:
        self.bodies: list[dict[str, Any]] = []
        controller = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                controller.bodies.append(json.loads(body))
                failing = len(controller.bodies) <= fail_first
                self.send_response(500 if failing else 200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/relay"


@pytest.fixture
def controller(request: pytest.FixtureRequest) -> Iterator[_Controller]:
    """A local controller failing its first ``request.param`` requests."""
    made = _Controller(request.param)
    yield made
    made.server.shutdown()
    made.server.server_close()


@pytest.mark.parametrize(
    ("controller", "requests", "failures"),
    [(0, 1, 0), (1, 2, 0), (2, 2, 1)],
    indirect=["controller"],
)
def test_http_driver_retries_once(controller: _Controller, requests: int, failures: int) -> None:
    relay = _relay({"driver": "http", "url": controller.url, "retry_delay_s": 0})
    assert isinstance(relay, HttpRelay)
    relay.pulse("east", 0.8)
    assert controller.bodies[0] == {"gate_id": "east", "pulse_s": 0.8}
    assert (len(controller.bodies), relay.failures) == (requests, failures)


def test_http_driver_unreachable_is_counted() -> None:
    relay = _relay({"driver": "http", "url": "http://127.0.0.1:9/relay", "timeout_s": 0.5})
    relay.pulse("east", 1.0)
    assert relay.failures == 1


def test_log_driver_logs(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="edge.io.relay"):
        _relay({"driver": "log"}).pulse("east", 1.0)
    assert "gate=east" in caplog.text


def test_gpio_without_its_library_fails_clearly() -> None:
    with pytest.raises(RelayError, match="gpiozero"):
        _relay({"driver": "gpio", "pins": {"east": 17}})


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"driver": "http", "url": "http://x", "timeot_s": 1}, "timeot_s"),
        ({"driver": "teleport"}, "driver"),
        ({"driver": "command", "argv": []}, "argv"),
    ],
)
def test_bad_relay_config_names_the_key(settings: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        RELAY.validate_python(settings)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"mqtt": {"hots": "x"}}, "hots"),
        ({"outbox": {"policy": "drop_all"}}, "policy"),
        ({"mqtt": {"tls": {"cert_file": "c.pem"}}}, "key_file"),
        ({"mqtt": {"reconnect_min_s": 5, "reconnect_max_s": 1}}, "reconnect_max_s"),
    ],
)
def test_bad_transport_config_names_the_key(settings: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        TransportConfig.model_validate(settings)
