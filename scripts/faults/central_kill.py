"""Scenario: the ingest worker process is SIGKILLed while devices publish, first with a batch
inserted but not committed (the pipeline's pause-before-commit test hook), then at random
times, and restarted each time on the same broker session; every journalled event must be
stored exactly once."""

from __future__ import annotations

import argparse
import logging
import random
import time
from dataclasses import dataclass

from central.ingest.pipeline import PAUSE_BEFORE_COMMIT_ENV
from scripts.demo.procs import Child
from scripts.faults.cli import add_common_options, open_stack
from scripts.faults.report import FaultReport, print_report
from scripts.faults.stack import Stack, kill, wait_for, wait_for_log

log = logging.getLogger(__name__)
NAME = "central_kill"
PAUSE_LOGGED = "pausing before commit"
HOOK_PAUSE_S = 30.0


@dataclass(frozen=True)
class CentralKills:
    """``hook_kills`` kills with a batch held before its commit, then ``random_kills`` after
    ``min_run_s``..``max_run_s`` of normal work; devices publish ``rate_per_s`` in all."""

    hook_kills: int = 3
    random_kills: int = 3
    rate_per_s: float = 50.0
    min_run_s: float = 0.5
    max_run_s: float = 3.0
    settle_timeout_s: float = 120.0
    seed: int = 11


def run_central_kill(stack: Stack, plan: CentralKills) -> FaultReport:
    """Devices publish until the kills are done; then they drain and the last worker stores.

    The first worker subscribes before any device publishes: a broker drops events that no
    subscription matches (a fresh broker has no session of central's yet)."""
    rate = plan.rate_per_s / len(stack.devices)
    holds = [True] * plan.hook_kills + [False] * plan.random_kills
    rng = random.Random(plan.seed)
    worker = _start_worker(stack, bool(holds) and holds[0])
    devices = [stack.start_device(spec, rate, 0) for spec in stack.devices]
    for index, hold in enumerate(holds):
        if index > 0:
            worker = _start_worker(stack, hold)
        if hold:
            wait_for_log(worker, PAUSE_LOGGED)
        else:
            time.sleep(rng.uniform(plan.min_run_s, plan.max_run_s))
        kill(worker)
    if holds:
        stack.start_ingest()
    for device in devices:
        device.process.terminate()  # stop publishing, drain the outbox, exit
    wait_for(
        lambda: all(device.process.poll() is not None for device in devices),
        "every device draining its outbox and exiting",
        plan.settle_timeout_s,
    )
    verdict = stack.settle(plan.settle_timeout_s)
    failed = [d.name for d in devices if d.process.returncode != 0]
    facts: dict[str, object] = {
        "devices": len(stack.devices),
        "rate_per_s": plan.rate_per_s,
        "kills_before_commit": plan.hook_kills,
        "kills_at_random": plan.random_kills,
        "hook": PAUSE_BEFORE_COMMIT_ENV,
    }
    return FaultReport(NAME, verdict, facts, [f"device exited non-zero: {n}" for n in failed])


def _start_worker(stack: Stack, hold: bool) -> Child:
    """A worker that holds each batch before its commit when ``hold``."""
    return stack.start_ingest(pause_before_commit_s=HOOK_PAUSE_S if hold else 0.0)


def main(argv: list[str]) -> int:
    """``python -m scripts.faults central_kill [options]``: run, print the report."""
    defaults = CentralKills()
    parser = argparse.ArgumentParser(prog=f"python -m scripts.faults {NAME}", description=__doc__)
    add_common_options(parser)
    parser.add_argument("--devices", type=int, default=3)
    parser.add_argument("--rate", type=float, default=defaults.rate_per_s, help="events/s in all")
    parser.add_argument("--hook-kills", type=int, default=defaults.hook_kills)
    parser.add_argument("--random-kills", type=int, default=defaults.random_kills)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    plan = CentralKills(
        hook_kills=args.hook_kills,
        random_kills=args.random_kills,
        rate_per_s=args.rate,
        seed=args.seed,
    )
    with open_stack(args, args.devices) as stack:
        return print_report(run_central_kill(stack, plan))
