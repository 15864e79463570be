"""GPIO relay driver, behind an optional import of ``gpiozero`` (Raspberry Pi and similar)."""

from __future__ import annotations

import logging
import threading
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)


class RelayError(Exception):
    """A relay driver cannot be set up here."""


class GpioRelayConfig(BaseModel):
    """Drive one output pin per gate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    driver: Literal["gpio"] = "gpio"
    pulse_s: float = Field(default=1.0, gt=0, le=30, description="How long the relay closes.")
    pins: dict[str, int] = Field(min_length=1, description="Gate id → BCM pin number.")
    active_high: bool = Field(default=True, description="False for active-low relay boards.")


class GpioRelay:
    """Switches a pin on for ``pulse_s`` (released by a timer, so ``pulse`` does not block)."""

    def __init__(self, config: GpioRelayConfig) -> None:
        try:
            import gpiozero
        except ImportError as exc:
            raise RelayError(
                "relay driver 'gpio' needs the gpiozero package (pip install gpiozero)"
            ) from exc
        self.failures = 0
        self._outputs: dict[str, Any] = {
            gate: gpiozero.OutputDevice(pin, active_high=config.active_high, initial_value=False)
            for gate, pin in config.pins.items()
        }

    def pulse(self, gate_id: str, pulse_s: float) -> None:
        """Close the relay of ``gate_id`` for ``pulse_s`` seconds."""
        output = self._outputs.get(gate_id)
        if output is None:
            self.failures += 1
            log.error("relay gpio has no pin for gate=%s", gate_id)
            return
        try:
            output.on()
            threading.Timer(pulse_s, output.off).start()
        except Exception as exc:
            self.failures += 1
            log.error("relay gpio failed gate=%s error=%s", gate_id, exc)
