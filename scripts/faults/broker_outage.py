"""Scenario: the broker stops for a while (60 s by default) and restarts on the same persistence
folder while devices keep producing (50 events/s in all); afterwards every journalled event
must be stored exactly once."""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass

from scripts.faults.cli import add_common_options, open_stack
from scripts.faults.report import FaultReport, print_report
from scripts.faults.stack import Stack, wait_for

log = logging.getLogger(__name__)
NAME = "broker_outage"


@dataclass(frozen=True)
class Outage:
    """The run's shape: ``before_s`` of traffic, ``outage_s`` without broker, ``after_s`` more."""

    rate_per_s: float = 50.0
    before_s: float = 10.0
    outage_s: float = 60.0
    after_s: float = 10.0
    settle_timeout_s: float = 240.0


def run_broker_outage(stack: Stack, outage: Outage) -> FaultReport:
    """Devices publish ``outage.rate_per_s`` in all while the broker stops and restarts."""
    stack.start_ingest()
    rate = outage.rate_per_s / len(stack.devices)
    duration_s = outage.before_s + outage.outage_s + outage.after_s
    devices = [stack.start_device(spec, rate, duration_s) for spec in stack.devices]
    time.sleep(outage.before_s)
    stack.broker.stop()
    log.info("step=broker_stopped outage_s=%s", outage.outage_s)
    time.sleep(outage.outage_s)
    stack.broker.start()
    log.info("step=broker_started")
    wait_for(
        lambda: all(device.process.poll() is not None for device in devices),
        "every device draining its outbox and exiting",
        outage.after_s + outage.settle_timeout_s,
    )
    verdict = stack.settle(outage.settle_timeout_s)
    failed = [d.name for d in devices if d.process.returncode != 0]
    facts: dict[str, object] = {
        "devices": len(stack.devices),
        "rate_per_s": outage.rate_per_s,
        "outage_s": outage.outage_s,
    }
    return FaultReport(NAME, verdict, facts, [f"device exited non-zero: {n}" for n in failed])


def main(argv: list[str]) -> int:
    """``python -m scripts.faults broker_outage [options]``: run, print the report."""
    defaults = Outage()
    parser = argparse.ArgumentParser(prog=f"python -m scripts.faults {NAME}", description=__doc__)
    add_common_options(parser)
    parser.add_argument("--devices", type=int, default=5)
    parser.add_argument("--rate", type=float, default=defaults.rate_per_s, help="events/s in all")
    parser.add_argument("--before", type=float, default=defaults.before_s, help="seconds")
    parser.add_argument("--outage", type=float, default=defaults.outage_s, help="seconds")
    parser.add_argument("--after", type=float, default=defaults.after_s, help="seconds")
    args = parser.parse_args(argv)
    outage = Outage(args.rate, args.before, args.outage, args.after)
    with open_stack(args, args.devices) as stack:
        return print_report(run_broker_outage(stack, outage))
