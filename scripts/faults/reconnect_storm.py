"""Scenario: hundreds of nodes reconnecting at once (issue #7).

``python -m scripts.faults reconnect_storm [--nodes 500] [--down-s 3] [--fault cut|restart]``:
provisions the nodes with central (per-device credentials and ACL in the broker's files), runs
each as a real ``EventPublisher`` (own SQLite outbox, MQTT client thread and sender thread) in
a few fleet processes (``scripts.faults.fleet``), connected through a ``TcpRelay`` to the
broker, and takes the broker away while they publish: ``cut`` (default) drops every node's
connection at the same instant and refuses new ones for ``--down-s``; ``restart`` stops and
restarts Mosquitto itself. Every node publishes into its outbox while the broker is away,
while the whole fleet reconnects, and after. The clients' own log records tell when each node
waited, tried and got in: the report gives the spread of the reconnects (the jittered backoff
keeps them from landing in the same instant), the CONNACK refusals (must be 0: no node refused
or banned) and the checker's verdict on what the ingest worker stored (0 lost, 0 duplicated).

With ``restart``, Mosquitto 2.0 does not restore shared subscriptions from its persistence
file: events the nodes publish after the restart and before central's ingest worker has
subscribed again are acknowledged to the nodes and then dropped by the broker (the checker
counts them as lost). ``cut`` keeps central's subscription and measures the storm alone.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from dataclasses import dataclass
from typing import Any, Literal

from scripts.demo.procs import free_port
from scripts.faults.cli import add_common_options, open_stack
from scripts.faults.fleet import NODES_PER_PROCESS, FleetProcess
from scripts.faults.report import FaultReport, print_report
from scripts.faults.stack import Stack, wait_for
from scripts.faults.tcp_relay import TcpRelay

log = logging.getLogger(__name__)
WINDOW_S = 0.1
CONNECT_TIMEOUT_S = 120.0
DRAIN_TIMEOUT_S = 180.0
MOST_IN_ONE_WINDOW = 0.5  # more than this share of the fleet within WINDOW_S: no real jitter
Fault = Literal["cut", "restart"]


@dataclass(frozen=True)
class ReconnectFigures:
    """When each node got back in (seconds after the broker came back) and the backoff waits
    the nodes drew after losing it."""

    nodes: int
    offsets_s: list[float]
    waits_s: list[float]
    refusals: list[str]
    tcp_failures: int

    @property
    def busiest_window_share(self) -> float:
        """The largest share of the fleet that got back in within any ``WINDOW_S``."""
        offsets, busiest, start = self.offsets_s, 0, 0
        for end, offset in enumerate(offsets):
            while offset - offsets[start] > WINDOW_S:
                start += 1
            busiest = max(busiest, end - start + 1)
        return busiest / max(1, self.nodes)

    def facts(self) -> dict[str, object]:
        """The figures as report facts."""
        offsets, waits = self.offsets_s or [0.0], self.waits_s or [0.0]
        return {
            "reconnected": len(self.offsets_s),
            "connack_refusals": len(self.refusals),
            "tcp_refused_attempts": self.tcp_failures,
            "reconnect_first_s": round(offsets[0], 2),
            "reconnect_median_s": round(statistics.median(offsets), 2),
            "reconnect_last_s": round(offsets[-1], 2),
            f"busiest_{int(WINDOW_S * 1000)}ms_share": f"{self.busiest_window_share:.1%}",
            "backoff_waits": len(self.waits_s),
            "backoff_wait_min_s": round(min(waits), 2),
            "backoff_wait_max_s": round(max(waits), 2),
        }

    def problems(self) -> list[str]:
        """Nodes that did not come back, refusals, or reconnects bunched in one instant."""
        found = [f"connection refused: {refusal}" for refusal in self.refusals[:10]]
        if len(self.offsets_s) < self.nodes:
            found.append(f"only {len(self.offsets_s)} of {self.nodes} nodes reconnected")
        if self.busiest_window_share > MOST_IN_ONE_WINDOW:
            found.append(
                f"{self.busiest_window_share:.0%} of the nodes reconnected within "
                f"{WINDOW_S * 1000:.0f} ms: no effective jitter"
            )
        return found


class Fleets:
    """The nodes of the stack in fleet processes of at most ``NODES_PER_PROCESS`` each."""

    def __init__(self, stack: Stack, port: int) -> None:
        devices = stack.devices
        self.nodes = len(devices)
        self.processes = [
            FleetProcess(
                devices[i : i + NODES_PER_PROCESS],
                port,
                stack.journal,
                stack.folder / "fleets" / f"fleet-{i // NODES_PER_PROCESS}",
            )
            for i in range(0, len(devices), NODES_PER_PROCESS)
        ]

    def ask_all(self, command: str) -> list[dict[str, Any]]:
        """Send ``command`` to every fleet (all at once) and collect the answers."""
        for fleet in self.processes:
            fleet.send(command)
        return [fleet.answer(command) for fleet in self.processes]

    def total(self, key: str) -> int:
        """A count summed over the fleets' ``status`` answers."""
        return sum(int(answer[key]) for answer in self.ask_all("status"))

    def given_up(self) -> list[str]:
        """Nodes that stopped retrying for good, with the reason."""
        return [line for answer in self.ask_all("status") for line in answer["given_up"]]

    def figures(self, gone: float, back: float) -> ReconnectFigures:
        """Reconnect times after ``back`` and backoff waits drawn after ``gone`` (epoch s)."""
        offsets: list[float] = []
        waits: list[float] = []
        refusals: list[str] = []
        tcp_failures = 0
        for report in self.ask_all("report"):
            for times in report["connects"]:
                after = [t - back for t in times if t >= back]
                offsets += after[:1]
            waits += [wait for created, wait in report["waits"] if created >= gone]
            refusals += report["refusals"]
            tcp_failures += report["tcp_failures"]
        return ReconnectFigures(
            self.nodes, sorted(offsets), waits, refusals + self.given_up(), tcp_failures
        )

    def stop(self) -> None:
        """Stop every fleet process."""
        for fleet in self.processes:
            fleet.stop()


def run_storm(
    stack: Stack, down_s: float = 3.0, fault: Fault = "cut", settle_s: float = DRAIN_TIMEOUT_S
) -> FaultReport:
    """Run the provisioned devices as fleets, take the broker away for ``down_s`` while they
    publish (``fault``), bring it back, publish during the reconnect storm and after, then
    drain and check."""
    relay = TcpRelay(stack.broker.port, free_port())
    relay.start()
    fleets = Fleets(stack, relay.port)
    nodes = fleets.nodes
    try:
        wait_for(
            lambda: fleets.total("connected") == nodes, "all nodes connected", CONNECT_TIMEOUT_S
        )
        fleets.ask_all("publish")
        gone = time.time()
        if fault == "cut":
            relay.cut()
        else:
            stack.broker.stop()
        log.info("step=broker_gone fault=%s nodes=%d", fault, nodes)
        fleets.ask_all("publish")
        time.sleep(max(0.0, gone + down_s - time.time()))
        back = time.time()
        if fault == "cut":
            relay.resume()
        else:
            stack.broker.start()
        log.info("step=broker_back fault=%s down_s=%.1f", fault, back - gone)
        fleets.ask_all("publish")  # while the fleet reconnects
        wait_for(
            lambda: fleets.total("connected") == nodes or bool(fleets.given_up()),
            "all nodes reconnected",
            CONNECT_TIMEOUT_S,
        )
        fleets.ask_all("publish")
        wait_for(lambda: fleets.total("queued") == 0, "all outboxes drained", settle_s)
        verdict = stack.settle(settle_s)
        figures = fleets.figures(gone, back)
    finally:
        fleets.stop()
        relay.stop()
    facts: dict[str, object] = {"fault": fault, "nodes": nodes, "down_s": down_s}
    return FaultReport("reconnect_storm", verdict, facts | figures.facts(), figures.problems())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The scenario's options."""
    add_common_options(parser)
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--down-s", type=float, default=3.0, help="broker away this long")
    parser.add_argument("--fault", choices=["cut", "restart"], default="cut")


def run_cli(args: argparse.Namespace) -> int:
    """Run with the parsed options; exit status 0 only when the report is ok."""
    with open_stack(args, args.nodes) as stack:
        stack.start_ingest()
        report = run_storm(stack, args.down_s, args.fault)
    return print_report(report)
