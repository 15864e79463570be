"""Scenario: a device process publishing at a high rate is SIGKILLed again and again mid-write
and restarted on the same outbox; its outbox must stay sound (``PRAGMA integrity_check``) and
every journalled event must be stored exactly once."""

from __future__ import annotations

import argparse
import logging
import random
import time
from dataclasses import dataclass

from scripts.faults.cli import add_common_options, open_stack
from scripts.faults.device import DeviceSpec
from scripts.faults.report import FaultReport, print_report
from scripts.faults.stack import Stack, kill, outbox_integrity, wait_for

log = logging.getLogger(__name__)
NAME = "edge_kill"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class EdgeKills:
    """``kills`` runs killed after a random ``min_run_s``..``max_run_s`` of publishing, then
    one last run of ``final_s`` that drains the outbox and exits."""

    kills: int = 10
    rate_per_s: float = 200.0
    min_run_s: float = 0.2
    max_run_s: float = 2.0
    final_s: float = 2.0
    settle_timeout_s: float = 120.0
    seed: int = 7


def run_edge_kill(stack: Stack, plan: EdgeKills) -> FaultReport:
    """Kill and restart the first device ``plan.kills`` times while it publishes."""
    stack.start_ingest()
    spec = stack.devices[0]
    rng = random.Random(plan.seed)
    problems: list[str] = []
    for round_ in range(1, plan.kills + 1):
        child = stack.start_device(spec, plan.rate_per_s, 0)
        _wait_publishing(stack, spec)
        time.sleep(rng.uniform(plan.min_run_s, plan.max_run_s))
        kill(child)
        problems += _integrity_problems(spec, f"after kill {round_}")
    final = stack.start_device(spec, plan.rate_per_s, plan.final_s)
    wait_for(
        lambda: final.process.poll() is not None,
        "the last device run draining and exiting",
        START_TIMEOUT_S + plan.final_s + plan.settle_timeout_s,
    )
    if final.process.returncode != 0:
        problems.append(f"last run exited {final.process.returncode}: see {final.log_path}")
    problems += _integrity_problems(spec, "at the end")
    verdict = stack.settle(plan.settle_timeout_s)
    facts: dict[str, object] = {"kills": plan.kills, "rate_per_s": plan.rate_per_s}
    return FaultReport(NAME, verdict, facts, problems)


def _wait_publishing(stack: Stack, spec: DeviceSpec) -> None:
    """Wait until the (re)started device journals a new event: it is inside its write loop."""
    size = stack.journal.stat().st_size if stack.journal.exists() else 0
    wait_for(
        lambda: stack.journal.exists() and stack.journal.stat().st_size > size,
        f"{spec.device_id} publishing",
        START_TIMEOUT_S,
    )


def _integrity_problems(spec: DeviceSpec, when: str) -> list[str]:
    answer = outbox_integrity(spec)
    log.info("step=integrity_check device=%s when=%r answer=%s", spec.device_id, when, answer)
    return [] if answer == "ok" else [f"outbox integrity {when}: {answer}"]


def main(argv: list[str]) -> int:
    """``python -m scripts.faults edge_kill [options]``: run, print the report."""
    defaults = EdgeKills()
    parser = argparse.ArgumentParser(prog=f"python -m scripts.faults {NAME}", description=__doc__)
    add_common_options(parser)
    parser.add_argument("--kills", type=int, default=defaults.kills)
    parser.add_argument("--rate", type=float, default=defaults.rate_per_s, help="events/s")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    plan = EdgeKills(kills=args.kills, rate_per_s=args.rate, seed=args.seed)
    with open_stack(args, 1) as stack:
        return print_report(run_edge_kill(stack, plan))
