"""Scale-out under a worker crash: several ``anju central ingest`` processes share one MQTT
subscription (``$share/<group>/…``) in front of one PostgreSQL database; one of them is
SIGKILLed while it holds an uncommitted batch (or, with ``--stop terminate``, stopped cleanly as
when scaling down), the devices keep publishing, and the worker is then restarted with its own
client id.

What Mosquitto 2.0 does with a member of a shared subscription that went away, as this scenario
measures: the member's persistent session keeps its turn in the round robin, so the events it
held unacknowledged *and* every event routed to it while it is away wait in its session; they
are not handed to the other members. They come when a worker reconnects with that client id
(``stranded_while_stopped`` counts them just before the restart). Nothing is lost as long as the
worker is restarted with the same ``mqtt.client_id`` within the session expiry; a worker stopped
for good (``--no-restart``) strands its share (docs/deployment.md).

Which worker stored each row, and how often each event reached an INSERT, is recorded by two
row triggers in the run's own database: each worker connects with ``application_name`` set to
its client id, so the load split is read from the database, not inferred from logs.

    python -m scripts.faults scaleout [--workers 3 --devices 4 --rate 25 --duration 30]
        [--stop kill|terminate] [--no-restart]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import time
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine, text

from central.db.session import make_engine
from scripts.demo.procs import Child
from scripts.faults.checker import check, read_journal, stored_rows
from scripts.faults.cli import add_common_options, open_stack
from scripts.faults.report import FaultReport, print_report
from scripts.faults.stack import (
    INGEST_READY,
    FaultError,
    Stack,
    kill,
    wait_for,
    wait_for_log,
)

log = logging.getLogger(__name__)
NAME = "scaleout"
STORED_BY = "stored_by_"
PAUSE_LOGGED = "pausing before commit"
QUIET_S = 3.0
"""The survivors count as idle once no row was stored for this long."""

_TRIGGERS = """
CREATE TABLE fault_event_inserts (
    event_id uuid NOT NULL,
    worker text NOT NULL,
    stage text NOT NULL
);
CREATE FUNCTION fault_record_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fault_event_inserts
    VALUES (NEW.event_id, current_setting('application_name'), lower(TG_WHEN));
    RETURN NEW;
END $$;
CREATE TRIGGER fault_offered BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION fault_record_insert();
CREATE TRIGGER fault_stored AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION fault_record_insert();
"""
"""``before`` rows: every event a committed batch offered to the INSERT (a repeat skipped by
ON CONFLICT included); ``after`` rows: the events that batch actually stored."""


StopHow = Literal["kill", "terminate"]


@dataclass(frozen=True)
class ScaleoutOptions:
    """How big the run is and when the crash comes."""

    workers: int = 3
    rate: float = 25.0
    """Events per second per device."""
    duration_s: float = 30.0
    """How long the devices publish."""
    stop_after_s: float = 8.0
    """The victim is stopped after this long (a kill waits for its next uncommitted batch)."""
    victim_pause_s: float = 0.5
    """The victim waits this long before each commit, so a kill finds a batch in hand."""
    stop: StopHow = "kill"
    """``kill``: SIGKILL holding a batch; ``terminate``: SIGTERM, a clean stop (scale-down)."""
    restart: bool = True
    drain_timeout_s: float = 120.0


def worker_ids(count: int) -> list[str]:
    """The client ids of ``count`` workers (each one's persistent session)."""
    return [f"faults-ingest-{index}" for index in range(1, count + 1)]


class WorkerPool:
    """Ingest worker processes of one shared group, each with its own client id."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self.running: dict[str, Child] = {}

    def start(self, client_id: str, pause_before_commit_s: float = 0.0) -> Child:
        """Start ``client_id``'s worker (its log says when it subscribed)."""
        child = self._stack.start_ingest(pause_before_commit_s, client_id, wait=False)
        self.running[client_id] = child
        return child


def install_insert_triggers(engine: Engine) -> None:
    """Record, in the run's database, which worker offered and stored each event."""
    if engine.dialect.name != "postgresql":
        raise FaultError("the scale-out scenario needs PostgreSQL (one database, many workers)")
    with engine.begin() as connection:
        connection.exec_driver_sql(_TRIGGERS)


def _insert_counts(engine: Engine, stage: str, column: str) -> dict[str, int]:
    """Trigger rows of ``stage`` counted by ``column`` (``worker`` or ``event_id``)."""
    query = text(
        f"SELECT {column}, count(*) FROM fault_event_inserts WHERE stage = :stage GROUP BY {column}"
    )
    with engine.connect() as connection:
        rows = connection.execute(query, {"stage": stage}).all()
    return {str(key): int(count) for key, count in rows}


def stored_by_worker(engine: Engine) -> dict[str, int]:
    """Rows each worker stored (by its connection's application_name)."""
    return _insert_counts(engine, "after", "worker")


def offers(engine: Engine) -> Counter[str]:
    """How many committed batches offered each event to the INSERT (more than 1: redelivered)."""
    return Counter(_insert_counts(engine, "before", "event_id"))


def kill_holding_a_batch(child: Child, timeout_s: float = 30.0) -> None:
    """SIGKILL ``child`` as soon as it logs a new pause before a commit (a batch in hand)."""

    def pauses() -> int:
        return child.log_path.read_text(encoding="utf-8", errors="replace").count(PAUSE_LOGGED)

    before = pauses()
    wait_for(lambda: pauses() > before, f"{child.name} pausing before a commit", timeout_s)
    kill(child)


def stop_victim(child: Child, how: StopHow) -> None:
    """SIGKILL the worker holding a batch, or stop it cleanly (SIGTERM) and wait for it."""
    if how == "kill":
        kill_holding_a_batch(child)
        return
    os.killpg(child.process.pid, signal.SIGTERM)
    child.process.wait(60)
    log.info("step=terminate child=%s status=%s", child.name, child.process.returncode)


def wait_quiet(engine: Engine, quiet_s: float, timeout_s: float) -> None:
    """Wait until no new row was stored for ``quiet_s`` (the live workers are idle)."""
    last_count, last_change = -1, time.monotonic()

    def quiet() -> bool:
        nonlocal last_count, last_change
        with engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM events")).scalar_one()
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        return time.monotonic() - last_change >= quiet_s

    wait_for(quiet, "the live workers going idle", timeout_s)


def run_scaleout(stack: Stack, options: ScaleoutOptions) -> FaultReport:
    """Run the scenario on a started ``stack`` whose devices are provisioned."""
    engine = make_engine(stack.database_url)
    try:
        install_insert_triggers(engine)
        client_ids = worker_ids(options.workers)
        victim = client_ids[-1]
        pool = WorkerPool(stack)
        for client_id in client_ids:
            holds_batches = client_id == victim and options.stop == "kill"
            pool.start(client_id, options.victim_pause_s if holds_batches else 0.0)
        for child in pool.running.values():
            wait_for_log(child, INGEST_READY)
        devices = [
            stack.start_device(spec, options.rate, options.duration_s) for spec in stack.devices
        ]
        time.sleep(options.stop_after_s)
        stop_victim(pool.running[victim], options.stop)
        timeout_s = options.duration_s + options.drain_timeout_s
        wait_for(lambda: all(not d.alive() for d in devices), "the devices finishing", timeout_s)
        wait_quiet(engine, QUIET_S, options.drain_timeout_s)
        stranded = stack.verdict().totals.lost
        log.info("step=survivors_idle victim=%s stranded=%d", victim, stranded)
        if options.restart:
            wait_for_log(pool.start(victim), INGEST_READY)
            stack.settle(options.drain_timeout_s)
        verdict = check(
            read_journal(stack.journal), stored_rows(stack.database_url), offers(engine)
        )
        shares = stored_by_worker(engine)
    finally:
        engine.dispose()
    facts: dict[str, object] = {
        "workers": options.workers,
        "stopped": victim,
        "how": options.stop,
        "restarted": options.restart,
        "stranded_while_stopped": stranded,
        **{f"{STORED_BY}{client_id}": shares.get(client_id, 0) for client_id in client_ids},
    }
    problems = [f"worker stored nothing: {c}" for c in client_ids if not shares.get(c)]
    problems += [f"device exited non-zero: {d.name}" for d in devices if d.process.returncode]
    return FaultReport(NAME, verdict, facts, problems)


def main(argv: list[str]) -> int:
    """``python -m scripts.faults scaleout [options]``: run, print the report."""
    defaults = ScaleoutOptions()
    parser = argparse.ArgumentParser(prog=f"python -m scripts.faults {NAME}", description=__doc__)
    add_common_options(parser)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--rate", type=float, default=defaults.rate, help="events/s per device")
    parser.add_argument("--duration", type=float, default=defaults.duration_s, help="seconds")
    parser.add_argument("--stop-after", type=float, default=defaults.stop_after_s, help="seconds")
    parser.add_argument(
        "--stop",
        choices=["kill", "terminate"],
        default=defaults.stop,
        help="SIGKILL the worker holding a batch, or stop it cleanly (scale-down)",
    )
    parser.add_argument(
        "--no-restart",
        action="store_true",
        help="leave the stopped worker stopped: shows what its session keeps from the others",
    )
    args = parser.parse_args(argv)
    options = ScaleoutOptions(
        workers=args.workers,
        rate=args.rate,
        duration_s=args.duration,
        stop_after_s=args.stop_after,
        stop=args.stop,
        restart=not args.no_restart,
    )
    with open_stack(args, args.devices) as stack:
        return print_report(run_scaleout(stack, options))
