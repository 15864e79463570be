"""Scenario: an edge outbox on a full disk, and at its quota (issue #7).

``python -m scripts.faults full_disk [--events 40]`` runs three real ``EventPublisher``s against
the private broker and a running ingest worker:

* ``disk``: the outbox lives on a small, real filesystem (a 2 MiB tmpfs, else a loop-mounted
  ext4 image; both need root), which a filler file then fills to the last block; where no
  mount is allowed (or with ``--disk rlimit``) the node runs in a child process whose
  RLIMIT_FSIZE stops its files from growing instead. With events queued offline, the disk
  fills and the broker comes back: the node sends them but cannot delete them, and must not
  resend them in a loop. It goes on publishing: each event the outbox cannot store is refused
  with ``EventNotStored`` (as the camera loop sees it: logged and counted, never a crash).
  Then the space returns, publishing resumes, and the node's ``outbox.dropped`` audit event
  (reason ``storage_error``) must name exactly the refused events.
* ``drop_oldest`` and ``refuse_new``: the node is cut off from the broker (``TcpRelay``) and
  publishes past its quota of ``QUOTA`` events; once back, the audit event must account for
  exactly the events the policy dropped (the checker's ``lost``) or refused.

The verdict printed is the checker's after taking out the audited drops: 0 lost means that
every event was either stored or audited; any difference between the checker's raw ``lost``
and the audits is a problem.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import select

from central.db.events_models import Event
from central.db.session import make_engine
from edge.comms.config import MqttConfig, OutboxConfig, TransportConfig
from edge.contract import Heartbeat, load_private_key
from edge.events.outbox import OutboxFull
from edge.events.publisher import SEND_WINDOW, EventNotStored, EventPublisher
from scripts.demo.procs import free_port
from scripts.faults.checker import JournalWriter, Verdict, check, read_journal, stored_rows
from scripts.faults.cli import add_common_options, open_stack
from scripts.faults.device import DeviceSpec
from scripts.faults.report import FaultReport, print_report
from scripts.faults.stack import FaultError, Stack, wait_for
from scripts.faults.tcp_relay import TcpRelay
from tests.central.ingest.mqtt_helpers import CENTRAL_USER, Listener

log = logging.getLogger(__name__)
DEVICES = 3
QUOTA = 10
SMALL_FS_BYTES = 2 * 1024 * 1024
SETTLE_S = 60.0
RESEND_WATCH_S = 2.0
MOST_DELIVERIES = 2  # once, plus once more if a connection broke before the PUBACK
Policy = Literal["drop_oldest", "refuse_new"]
DiskChoice = Literal["auto", "rlimit"]


class FilesystemUnavailable(RuntimeError):
    """No small real filesystem can be mounted here (not root, no tmpfs or loop devices)."""


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30)


@contextmanager
def small_filesystem(folder: Path, size_bytes: int = SMALL_FS_BYTES) -> Iterator[Path]:
    """A freshly mounted filesystem of ``size_bytes`` (tmpfs, else a loop-mounted ext4 image)
    at ``folder/mnt``, unmounted afterwards."""
    mountpoint = folder / "mnt"
    mountpoint.mkdir(parents=True, exist_ok=True)
    image = folder / "disk.img"
    attempts: list[tuple[str, Callable[[], None]]] = [
        (
            "tmpfs",
            lambda: _run(
                "mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(mountpoint)
            ),
        ),
        ("ext4 loop image", lambda: _loop_ext4(image, mountpoint, size_bytes)),
    ]
    failures: list[str] = []
    for kind, mount in attempts:
        try:
            mount()
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            failures.append(f"{kind}: {str(detail).strip()}")
            image.unlink(missing_ok=True)
            continue
        log.info("step=mounted kind=%s path=%s bytes=%d", kind, mountpoint, size_bytes)
        try:
            yield mountpoint
        finally:
            _unmount(mountpoint)
            image.unlink(missing_ok=True)
        return
    raise FilesystemUnavailable("cannot mount a small filesystem: " + "; ".join(failures))


def _unmount(mountpoint: Path) -> None:
    """Unmount; if still busy, detach lazily: a closed SQLite connection keeps its files open
    while a cursor survives in a kept traceback (pytest's log capture keeps some)."""
    try:
        _run("umount", str(mountpoint))
    except subprocess.CalledProcessError as exc:
        log.warning("step=unmount busy=%s; detaching lazily", exc.stderr.strip())
        _run("umount", "--lazy", str(mountpoint))


def _loop_ext4(image: Path, mountpoint: Path, size_bytes: int) -> None:
    with image.open("wb") as handle:
        handle.truncate(size_bytes)
    _run("mkfs.ext4", "-q", "-F", str(image))
    _run("mount", "-o", "loop", str(image), str(mountpoint))


def fill(folder: Path) -> Path:
    """Write a filler file into ``folder`` until its filesystem has no block left."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle:
        for chunk in (64 * 1024, 4096, 512, 1):
            try:
                while True:
                    handle.write(bytes(chunk))
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
        os.fsync(handle.fileno())
    log.info("step=disk_filled bytes=%d", filler.stat().st_size)
    return filler


class Disk(Protocol):
    """Where the outbox lives, and a way to run it out of space and give the space back."""

    kind: str
    folder: Path

    def fill(self) -> None:
        """Leave no room for the outbox to grow."""

    def free(self) -> None:
        """Give the room back."""


class MountedDisk:
    """A small mounted filesystem, filled to the last block by a filler file."""

    kind = "mounted"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._filler: Path | None = None

    def fill(self) -> None:
        """Write the filler."""
        self._filler = fill(self.folder)

    def free(self) -> None:
        """Remove the filler."""
        if self._filler is not None:
            self._filler.unlink()


class FileSizeLimit:
    """No mount allowed: this process's RLIMIT_FSIZE stops every file at its current size, as
    a full disk would (only in a process of its own: it limits every file it writes)."""

    kind = "rlimit_fsize"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._limits = resource.getrlimit(resource.RLIMIT_FSIZE)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed

    def fill(self) -> None:
        """Lower the soft limit to the largest file in the folder."""
        largest = max((path.stat().st_size for path in self.folder.iterdir()), default=0)
        resource.setrlimit(resource.RLIMIT_FSIZE, (largest, self._limits[1]))
        log.info("step=disk_filled kind=rlimit_fsize bytes=%d", largest)

    def free(self) -> None:
        """Restore the limit."""
        resource.setrlimit(resource.RLIMIT_FSIZE, self._limits)


@dataclass(frozen=True)
class NodeResult:
    """What one node did: what it journalled, what it was refused, how often the broker
    delivered each of its events (disk node only) and what the audits must add up to."""

    device_id: str
    journalled: list[str]
    refused: list[str]
    refused_by_quota: int
    expected_drops: int
    deliveries: dict[str, int] = field(default_factory=dict)
    disk: str = ""


@dataclass
class Node:
    """One publishing node: its publisher, what it journalled and what it had refused."""

    spec: DeviceSpec
    publisher: EventPublisher
    journal: JournalWriter
    journalled: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    refused_by_quota: int = 0
    expected_drops: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)

    def publish(self, count: int) -> None:
        """Publish ``count`` heartbeats as the camera loop would: a refusal is counted and the
        loop goes on."""
        for _ in range(count):
            seq = len(self.journalled) + len(self.refused) + self.refused_by_quota
            try:
                envelope = self.publisher.publish(Heartbeat(uptime_s=float(seq), outbox_depth=0))
            except OutboxFull:
                self.refused_by_quota += 1
                continue
            except EventNotStored as exc:
                self.refused.append(exc.event_id)
                continue
            self.journal.record(self.spec.device_id, str(envelope.event_id), seq)
            self.journalled.append(str(envelope.event_id))

    def result(self, disk: str = "") -> NodeResult:
        """What the node did, as plain data."""
        return NodeResult(
            self.spec.device_id,
            self.journalled,
            self.refused,
            self.refused_by_quota,
            self.expected_drops,
            dict(self.deliveries),
            disk,
        )

    def drained(self) -> bool:
        """Whether the outbox is empty (every event acknowledged by the broker)."""
        return self.publisher.connected and self.publisher.outbox_depth == 0


def node_publisher(spec: DeviceSpec, port: int, outbox: OutboxConfig) -> EventPublisher:
    """A node's publisher with a fast reconnect and the given outbox."""
    mqtt = MqttConfig(
        port=port,
        username=spec.device_id,
        password_file=Path(spec.password_file),
        reconnect_min_s=0.2,
        reconnect_max_s=1.0,
    )
    config = TransportConfig(mqtt=mqtt, outbox=outbox)
    return EventPublisher(config, load_private_key(spec.private_key), spec.site_id, spec.device_id)


@contextmanager
def running_node(
    spec: DeviceSpec, port: int, outbox: OutboxConfig, journal: JournalWriter
) -> Iterator[Node]:
    """A started node, stopped afterwards."""
    publisher = node_publisher(spec, port, outbox)
    publisher.start()
    try:
        wait_for(lambda: publisher.connected, f"{spec.device_id} connecting", SETTLE_S)
        yield Node(spec, publisher, journal)
    finally:
        publisher.stop()


class Deliveries:
    """Counts how often the broker delivered each of a device's events (read as central)."""

    def __init__(self, port: int, device_id: str) -> None:
        self._listener = Listener(port, f"anju/v1/dev/{device_id}/events/#", CENTRAL_USER)
        self.counts: Counter[str] = Counter()

    def update(self) -> Counter[str]:
        """Take in what arrived so far; the counts."""
        while not self._listener.messages.empty():
            message = self._listener.messages.get()
            self.counts[json.loads(message.payload)["event_id"]] += 1
        return self.counts

    def close(self) -> None:
        """Disconnect."""
        self._listener.close()


def disk_phase(
    stack: Stack, spec: DeviceSpec, events: int, journal: JournalWriter, disk: DiskChoice
) -> NodeResult:
    """The full-disk node on a small mounted filesystem (``auto``, when mounting works), else
    in a child process under RLIMIT_FSIZE."""
    if disk == "auto":
        try:
            with small_filesystem(stack.folder / "disk") as folder:
                return around_full_disk(MountedDisk(folder), spec, events, journal)
        except FilesystemUnavailable as exc:
            log.warning("step=disk_fallback kind=rlimit_fsize reason=%s", exc)
    folder = stack.folder / "disk" / "limited"
    folder.mkdir(parents=True, exist_ok=True)
    spec_path = folder / "spec.json"
    spec.write(spec_path)
    argv = [sys.executable, "-m", "scripts.faults.full_disk", str(spec_path), str(events)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=4 * SETTLE_S, check=False)
    (stack.folder / "logs").mkdir(parents=True, exist_ok=True)
    (stack.folder / "logs" / "disk-node.log").write_text(done.stderr, encoding="utf-8")
    if done.returncode != 0:
        raise FaultError(f"the disk node failed ({done.returncode}): {done.stderr[-2000:]}")
    return NodeResult(**json.loads(done.stdout.splitlines()[-1]))


def around_full_disk(
    disk: Disk, spec: DeviceSpec, events: int, journal: JournalWriter
) -> NodeResult:
    """Publish while connected; queue ``events`` offline; fill the disk and let the node
    send its queue (it cannot delete what the broker acknowledged: no resend loop allowed);
    publish on the full disk (refused, audited); free the disk and publish again."""
    relay = TcpRelay(spec.port, free_port())
    relay.start()
    deliveries = Deliveries(spec.port, spec.device_id)
    try:
        outbox = OutboxConfig(path=disk.folder / "outbox.sqlite3")
        with running_node(spec, relay.port, outbox, journal) as node:
            node.publish(events)
            wait_for(node.drained, "the disk node draining", SETTLE_S)
            relay.cut()
            node.publish(events)
            queued = node.journalled[-events:]
            disk.fill()
            relay.resume()
            in_flight = min(events, SEND_WINDOW)
            wait_for(
                lambda: sum(deliveries.update()[i] > 0 for i in queued) >= in_flight,
                "the queued events reaching the broker on a full disk",
                SETTLE_S,
            )
            time.sleep(RESEND_WATCH_S)  # a resend loop would redeliver them meanwhile
            node.publish(events)
            node.expected_drops = len(node.refused)
            log.info("step=published_on_full_disk refused=%d", len(node.refused))
            disk.free()
            node.publish(events)
            wait_for(node.drained, "the disk node draining after space returned", SETTLE_S)
        node.deliveries = deliveries.update()
    finally:
        deliveries.close()
        relay.stop()
    return node.result(disk.kind)


def quota_phase(
    stack: Stack, spec: DeviceSpec, policy: Policy, events: int, journal: JournalWriter
) -> NodeResult:
    """Publish ``events`` (over ``QUOTA``) while cut off from the broker, then reconnect."""
    relay = TcpRelay(stack.broker.port, free_port())
    relay.start()
    path = stack.folder / "outboxes" / spec.device_id / "outbox.sqlite3"
    outbox = OutboxConfig(path=path, max_events=QUOTA, policy=policy)
    try:
        with running_node(spec, relay.port, outbox, journal) as node:
            relay.cut()
            node.expected_drops = max(0, events - QUOTA)
            node.publish(events)
            relay.resume()
            wait_for(node.drained, f"the {policy} node draining", SETTLE_S)
    finally:
        relay.stop()
    return node.result()


def audits(database_url: str, device_id: str) -> list[dict[str, Any]]:
    """The ``outbox.dropped`` payloads central stored for the device, oldest first."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Event.payload)
                .where(Event.device_id == device_id, Event.kind == "outbox.dropped")
                .order_by(Event.occurred_at)
            ).all()
    finally:
        engine.dispose()
    return [dict(row[0]) for row in rows]


def audited_ids(node: NodeResult, found: list[dict[str, Any]]) -> tuple[set[str], list[str]]:
    """The journalled ids the audits account for (``drop_oldest`` runs, first to last), and
    the problems: audits that do not match what the node saw refused or dropped."""
    problems: list[str] = []
    name = node.device_id
    refused_audits = [a for a in found if a["reason"] == "storage_error"]
    quota_audits = [a for a in found if a["reason"] == "quota"]
    refused_total = sum(a["dropped"] for a in refused_audits)
    if refused_total != len(node.refused):
        problems.append(f"{name}: {len(node.refused)} events not stored, {refused_total} audited")
    if node.refused and refused_audits:
        ends = (refused_audits[0]["first_event_id"], refused_audits[-1]["last_event_id"])
        if ends != (node.refused[0], node.refused[-1]):
            problems.append(f"{name}: storage audit names {ends}, refused {node.refused[0]}…")
    dropped: set[str] = set()
    for audit in quota_audits:
        if audit["policy"] == "refuse_new":
            continue
        first = node.journalled.index(audit["first_event_id"])
        last = node.journalled.index(audit["last_event_id"])
        run = node.journalled[first : last + 1]
        if len(run) != audit["dropped"]:
            problems.append(
                f"{name}: audit says {audit['dropped']} dropped, range holds {len(run)}"
            )
        dropped |= set(run)
    refused_quota = sum(a["dropped"] for a in quota_audits if a["policy"] == "refuse_new")
    if refused_quota != node.refused_by_quota:
        problems.append(
            f"{name}: {node.refused_by_quota} refused by the quota, {refused_quota} audited"
        )
    return dropped, problems


def run_full_disk(stack: Stack, events: int = 40, disk: DiskChoice = "auto") -> FaultReport:
    """Run the disk, drop_oldest and refuse_new nodes; the reconciled verdict and problems."""
    disk_spec, oldest_spec, newest_spec = stack.devices[:DEVICES]
    with JournalWriter(stack.journal) as journal:
        nodes = [
            disk_phase(stack, disk_spec, events, journal, disk),
            quota_phase(stack, oldest_spec, "drop_oldest", events, journal),
            quota_phase(stack, newest_spec, "refuse_new", events, journal),
        ]
    found: dict[str, list[dict[str, Any]]] = {}

    def all_audited() -> bool:
        for node in nodes:
            found[node.device_id] = audits(stack.database_url, node.device_id)
        return all(sum(a["dropped"] for a in found[n.device_id]) >= n.expected_drops for n in nodes)

    wait_for(all_audited, "the audit events reaching central", SETTLE_S)
    dropped: set[str] = set()
    problems: list[str] = []
    for node in nodes:
        ids, found_problems = audited_ids(node, found[node.device_id])
        dropped |= ids
        problems += found_problems
    verdict = settle(stack, dropped)
    for node in nodes:
        most = max(node.deliveries.values(), default=0)
        if most > MOST_DELIVERIES:
            problems.append(f"{node.device_id}: an event was delivered {most} times")
    raw = check(read_journal(stack.journal), stored_rows(stack.database_url))
    if set(raw.lost_ids) != dropped:
        problems.append(
            f"lost and audited differ: {len(raw.lost_ids)} lost, {len(dropped)} audited drops"
        )
    facts: dict[str, object] = {"events_per_phase": events, "quota": QUOTA, "disk": nodes[0].disk}
    for node in nodes:
        facts[f"{node.device_id}_journalled"] = len(node.journalled)
        facts[f"{node.device_id}_not_stored"] = len(node.refused)
        facts[f"{node.device_id}_quota_refused"] = node.refused_by_quota
        facts[f"{node.device_id}_audits"] = [
            (a["reason"], a["policy"], a["dropped"]) for a in found[node.device_id]
        ]
    facts["disk_node_most_deliveries"] = max(nodes[0].deliveries.values(), default=0)
    facts["raw_lost"] = raw.totals.lost
    facts["audited_drops"] = len(dropped)
    return FaultReport("full_disk", verdict, facts, problems)


def settle(stack: Stack, dropped: set[str]) -> Verdict:
    """Wait until every journalled event that was not an audited drop is stored (or
    ``SETTLE_S``); the checker's verdict on those."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        kept = [e for e in read_journal(stack.journal) if e.event_id not in dropped]
        verdict = check(kept, stored_rows(stack.database_url))
        if verdict.totals.lost == 0 or time.monotonic() > deadline:
            return verdict
        time.sleep(0.5)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The scenario's options."""
    add_common_options(parser)
    parser.add_argument("--events", type=int, default=40, help="events per phase")
    parser.add_argument(
        "--disk",
        choices=["auto", "rlimit"],
        default="auto",
        help="auto: a small mounted filesystem when allowed, else RLIMIT_FSIZE",
    )


def run_cli(args: argparse.Namespace) -> int:
    """Run with the parsed options; exit status 0 only when the report is ok."""
    with open_stack(args, DEVICES) as stack:
        stack.start_ingest()
        report = run_full_disk(stack, args.events, args.disk)
    return print_report(report)


def disk_node_main(argv: list[str]) -> int:
    """``python -m scripts.faults.full_disk SPEC.json EVENTS``: the disk node under
    RLIMIT_FSIZE in this process; prints its ``NodeResult`` as one JSON line."""
    from anju.logs import setup_logging

    setup_logging("info")
    spec = DeviceSpec.read(Path(argv[0]))
    disk = FileSizeLimit(Path(argv[0]).parent)
    with JournalWriter(Path(spec.journal)) as journal:
        result = around_full_disk(disk, spec, int(argv[1]), journal)
    print(json.dumps(asdict(result)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(disk_node_main(sys.argv[1:]))
