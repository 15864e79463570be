"""Relay drivers that pulse a gate's barrier open: ``log``, ``http``, ``command``, ``gpio``.

Each driver has its own config section, chosen by ``driver``; ``pulse_s`` is how long the
relay stays closed. A failing relay is logged and counted in ``failures``; ``pulse`` never
raises, so a broken barrier controller cannot stop the node from deciding and reporting.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time
import urllib.error
import urllib.request
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from edge.io.gpio import GpioRelay, GpioRelayConfig, RelayError

__all__ = [
    "CommandRelayConfig",
    "GpioRelayConfig",
    "HttpRelayConfig",
    "LogRelayConfig",
    "RelayConfig",
    "RelayDriver",
    "RelayError",
    "build_relay",
]

log = logging.getLogger(__name__)


class RelayDriver(Protocol):
    """Something that opens a gate for ``pulse_s`` seconds."""

    def pulse(self, gate_id: str, pulse_s: float) -> None: ...


class _RelaySection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pulse_s: float = Field(default=1.0, gt=0, le=30, description="How long the relay closes.")


class LogRelayConfig(_RelaySection):
    """Only log the pulse (bench and demo nodes)."""

    driver: Literal["log"] = "log"


class HttpRelayConfig(_RelaySection):
    """POST ``{"gate_id", "pulse_s"}`` as JSON to a network relay controller."""

    driver: Literal["http"] = "http"
    url: str = Field(description="Controller endpoint, e.g. http://10.0.0.9/relay.")
    timeout_s: float = Field(default=2.0, gt=0, description="Per attempt.")
    retry_delay_s: float = Field(default=0.2, ge=0, description="Before the single retry.")


class CommandRelayConfig(_RelaySection):
    """Run a program; ``{gate_id}`` and ``{pulse_s}`` in the arguments are filled in."""

    driver: Literal["command"] = "command"
    argv: list[str] = Field(min_length=1, description="Program and arguments (no shell).")
    timeout_s: float = Field(default=5.0, gt=0)


RelayConfig = Annotated[
    LogRelayConfig | HttpRelayConfig | CommandRelayConfig | GpioRelayConfig,
    Field(discriminator="driver"),
]


class LogRelay:
    """Logs each pulse."""

    def __init__(self, config: LogRelayConfig) -> None:
        self.failures = 0

    def pulse(self, gate_id: str, pulse_s: float) -> None:
        """Log that ``gate_id`` would open."""
        log.info("relay pulse driver=log gate=%s pulse_s=%.2f", gate_id, pulse_s)


class HttpRelay:
    """POSTs to a relay controller; one retry; failures logged and counted."""

    def __init__(self, config: HttpRelayConfig) -> None:
        self._config = config
        self.failures = 0

    def pulse(self, gate_id: str, pulse_s: float) -> None:
        """Ask the controller to open ``gate_id``."""
        body = json.dumps({"gate_id": gate_id, "pulse_s": pulse_s}).encode()
        for attempt in (1, 2):
            request = urllib.request.Request(
                self._config.url, data=body, headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=self._config.timeout_s) as reply:
                    reply.read()
                log.info("relay pulse driver=http gate=%s status=%d", gate_id, reply.status)
                return
            except (urllib.error.URLError, OSError, ValueError) as exc:
                log.warning("relay http failed gate=%s attempt=%d error=%s", gate_id, attempt, exc)
                if attempt == 1:
                    time.sleep(self._config.retry_delay_s)
        self.failures += 1
        log.error("relay http gave up gate=%s url=%s", gate_id, self._config.url)


class CommandRelay:
    """Runs the configured program per pulse; a non-zero exit or timeout is counted."""

    def __init__(self, config: CommandRelayConfig) -> None:
        self._config = config
        self.failures = 0

    def pulse(self, gate_id: str, pulse_s: float) -> None:
        """Run the command for ``gate_id``."""
        argv = [a.format(gate_id=gate_id, pulse_s=pulse_s) for a in self._config.argv]
        try:
            done = subprocess.run(
                argv, capture_output=True, timeout=self._config.timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.failures += 1
            log.error("relay command failed gate=%s argv=%s error=%s", gate_id, argv, exc)
            return
        if done.returncode != 0:
            self.failures += 1
            stderr = done.stderr.decode(errors="replace").strip()[-200:]
            log.error(
                "relay command exit gate=%s code=%d stderr=%s", gate_id, done.returncode, stderr
            )
            return
        log.info("relay pulse driver=command gate=%s", gate_id)


def build_relay(config: RelayConfig) -> RelayDriver:
    """The driver for ``config``; the GPIO driver fails here, clearly, without its library."""
    if isinstance(config, LogRelayConfig):
        return LogRelay(config)
    if isinstance(config, HttpRelayConfig):
        return HttpRelay(config)
    if isinstance(config, CommandRelayConfig):
        return CommandRelay(config)
    return GpioRelay(config)
