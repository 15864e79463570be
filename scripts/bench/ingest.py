"""Ingest benchmark: events/s stored by one worker (validated, signature-checked, batched, rules
running) next to the QoS 1 receive rate of a bare paho subscriber, through the same private
Mosquitto started with the generated configuration.

The events are signed before any timing and published by a child process, so the publisher's
CPU time does not count against the process measured. Two modes, each timing the bare
subscriber and the worker the same way:

- live: from the moment the publisher is told to start to the last message received (bare
  subscriber) or to the commit that stored the last event (worker). One Python publisher tops
  out near 7-8k QoS 1 messages/s on a 2-core machine, so both rates are bounded by it there.
- backlog: the publisher runs to completion while the consumer is away (its persistent session
  holds the events at the broker), then the consumer connects; timed from its connect to the
  last message received or stored. This is the consumer's own capacity, as after an outage.

Per mode it prints both rates, where the worker's time goes (us/event per stage) and the garbage
collections each run triggered, checks that every event was stored exactly once, and prints
``ratio_stored_vs_raw: X`` last.

    python scripts/bench/ingest.py --events 10000            # a fresh PostgreSQL database
    python scripts/bench/ingest.py --database-url sqlite:///var/bench.db --json var/ingest.json

Without ``--database-url`` it creates a database on the local PostgreSQL and drops it afterwards
(a temporary SQLite file if PostgreSQL is not running); a database given by URL has its central
tables dropped and recreated.
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from prometheus_client import REGISTRY
from sqlalchemy import func, select

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from central.alarms.service import AlarmService  # noqa: E402
from central.broker.mosquitto import BrokerConfig, policy_block  # noqa: E402
from central.db.events_models import Event  # noqa: E402
from central.db.models import Base  # noqa: E402
from central.db.registry_models import Device  # noqa: E402
from central.db.session import make_engine, make_session_factory  # noqa: E402
from central.devices.mosquitto_auth import mosquitto_password_hash  # noqa: E402
from central.ingest.config import IngestConfig  # noqa: E402
from central.ingest.metrics import STAGES  # noqa: E402
from central.ingest.mqtt import BrokerTarget  # noqa: E402
from central.ingest.pipeline import IngestPipeline  # noqa: E402
from central.ingest.worker import IngestWorker  # noqa: E402
from central.registry.queries import device_info  # noqa: E402
from central.rules.config import RulesConfig  # noqa: E402
from edge.contract import AccessDecision, Envelope, event_topic, public_key_text  # noqa: E402
from scripts.bench.results import BenchResults, Figure, write_results  # noqa: E402

USER, PASSWORD = "bench", "bench-secret"
DEVICE, SITE = "bench-gate", "bench-site"
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
GOAL_STORED_PER_S = 10_000
GOAL_RATIO = 0.6
PUBLISHER_IN_FLIGHT = 1000
WAIT_S = 600
SUBSCRIBER_SESSION_S = 3600
BACKLOG_SUBSCRIPTION = "anju/v1/dev/+/+/#"
"""The worker's subscription in backlog mode: Mosquitto keeps nothing for a shared group with no
member connected (it answers the publisher "no matching subscribers"), so the away worker
holds a plain subscription in its session; draining it is the same work."""
OnMessage = Callable[[mqtt.Client, object, mqtt.MQTTMessage], None]
Mode = Literal["live", "backlog"]


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_broker(folder: Path, port: int) -> subprocess.Popen[bytes]:
    """Mosquitto with the generated policy and one account allowed everywhere, accepting
    connections on ``port``."""
    config = BrokerConfig(password_file=folder / "passwd", acl_file=folder / "acl")
    config.password_file.write_text(f"{USER}:{mosquitto_password_hash(PASSWORD)}\n")
    config.acl_file.write_text(f"user {USER}\ntopic readwrite anju/#\ntopic readwrite $share/#\n")
    run_as = "user root\n" if os.geteuid() == 0 else ""
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\n" + policy_block(config) + run_as)
    broker = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while broker.poll() is None and time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return broker
        time.sleep(0.05)
    broker.kill()
    raise SystemExit(f"bench: mosquitto did not start on port {port}")


def connected_client(
    port: int, client_id: str, in_flight: int = 20, on_message: OnMessage | None = None
) -> mqtt.Client:
    """A looping MQTT 5 client that has its CONNACK (``in_flight``: QoS 1 publishes awaiting
    their PUBACK at once; paho's default is 20). A subscriber (``on_message``) resumes a
    persistent session: what the broker kept for it arrives as soon as it connects."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(in_flight)
    client.username_pw_set(USER, PASSWORD)
    connected = threading.Event()
    client.on_connect = lambda *_: connected.set()
    if on_message is None:
        client.connect("127.0.0.1", port)
    else:
        client.on_message = on_message
        expiry = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        expiry.SessionExpiryInterval = SUBSCRIBER_SESSION_S
        client.connect("127.0.0.1", port, clean_start=False, properties=expiry)
    client.loop_start()
    if not connected.wait(10):
        raise SystemExit(f"bench: no CONNACK from the broker on port {port}")
    return client


def publish_file(port: int, path: Path) -> None:
    """Child process: connect, say ``ready``, wait for ``go`` on stdin, then publish each
    ``topic<TAB>payload`` line of ``path`` with QoS 1 and wait for every PUBACK."""
    lines = path.read_bytes().splitlines()
    messages = [(topic.decode(), payload) for topic, payload in (x.split(b"\t", 1) for x in lines)]
    publisher = connected_client(port, f"bench-pub-{uuid.uuid4().hex[:6]}", PUBLISHER_IN_FLIGHT)
    print("ready", flush=True)
    sys.stdin.readline()
    infos = [publisher.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(WAIT_S)
    publisher.disconnect()
    publisher.loop_stop()


@dataclass
class Run:
    """One timed run: elapsed seconds, the CPU seconds of the process and of paho's thread,
    and the garbage collections of each generation the process ran meanwhile."""

    seconds: float
    process_cpu_s: float
    network_cpu_s: float
    collections: tuple[int, ...]


def gc_collections() -> tuple[int, ...]:
    """Collections so far of each generation of the garbage collector."""
    return tuple(generation["collections"] for generation in gc.get_stats())


def thread_cpu_s(name: str) -> float:
    """CPU seconds used so far by the live thread called ``name``."""
    thread = next(t for t in threading.enumerate() if t.name == name)
    assert thread.ident is not None
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def started_publisher(port: int, path: Path) -> subprocess.Popen[bytes]:
    """The publisher child, connected and waiting for ``go`` on its stdin."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--publish", str(path), "--port", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    if child.stdout.readline().strip() != b"ready":
        raise SystemExit("bench: the publisher did not start")
    return child


def go(child: subprocess.Popen[bytes]) -> None:
    """Tell the publisher child to publish."""
    assert child.stdin is not None
    child.stdin.write(b"go\n")
    child.stdin.flush()


def published(child: subprocess.Popen[bytes]) -> None:
    """Wait until the publisher child has had every PUBACK and exited."""
    if child.wait(WAIT_S) != 0:
        raise SystemExit("bench: the publisher failed")


@dataclass(frozen=True)
class Consumer:
    """A run's consumer: ``connect()`` brings it back (backlog mode), ``done()`` returns the
    moment it handled the last message, ``network_thread`` names its paho thread."""

    connect: Callable[[], None]
    done: Callable[[], float]
    network_thread: str


def timed_run(port: int, path: Path, consumer: Consumer, backlog: bool) -> Run:
    """Live: time from the publisher's ``go`` to ``consumer.done()``. Backlog: with the consumer
    away, publish everything, then time from ``consumer.connect()`` to ``consumer.done()``."""
    child = started_publisher(port, path)
    if backlog:
        go(child)
        published(child)
    network = 0.0 if backlog else thread_cpu_s(consumer.network_thread)
    cpu, collections = time.process_time(), gc_collections()
    start = time.perf_counter()
    if backlog:
        consumer.connect()
    else:
        go(child)
    end = consumer.done()
    run = Run(
        end - start,
        time.process_time() - cpu,
        thread_cpu_s(consumer.network_thread) - network,
        tuple(now - then for now, then in zip(gc_collections(), collections, strict=True)),
    )
    published(child)
    return run


def raw_run(port: int, path: Path, count: int, backlog: bool) -> Run:
    """A bare paho subscriber receiving the ``count`` messages (paho acknowledges each)."""
    finished = threading.Event()
    received = [0, 0.0]

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        received[0] += 1
        if received[0] == count:
            received[1] = time.perf_counter()
            finished.set()

    client_id = f"bench-raw-{'backlog' if backlog else 'live'}"
    subscriber = [connected_client(port, client_id, on_message=on_message)]
    subscribed = threading.Event()
    subscriber[0].on_subscribe = lambda *_: subscribed.set()
    subscriber[0].subscribe("anju/v1/dev/+/events/#", qos=1)
    subscribed.wait(10)
    if backlog:  # away: its session keeps the subscription and collects the messages
        subscriber[0].disconnect()
        subscriber[0].loop_stop()

    def connect() -> None:
        subscriber.append(connected_client(port, client_id, on_message=on_message))

    def done() -> float:
        if not finished.wait(WAIT_S):
            raise SystemExit(f"bench: the bare subscriber received {received[0]} of {count}")
        return received[1]

    try:
        consumer = Consumer(connect, done, f"paho-mqtt-client-{client_id}")
        return timed_run(port, path, consumer, backlog)
    finally:
        subscriber[-1].disconnect()
        subscriber[-1].loop_stop()


def stage_seconds() -> dict[str, tuple[float, float]]:
    """Wall and CPU seconds spent so far in each ingest stage (``central.ingest.metrics``)."""

    def sample(name: str, stage: str) -> float:
        return REGISTRY.get_sample_value(name, {"stage": stage}) or 0.0

    return {
        stage: (
            sample("anju_ingest_stage_seconds_sum", stage),
            sample("anju_ingest_stage_cpu_seconds_total", stage),
        )
        for stage in STAGES
    }


def stored_run(
    port: int, url: str, path: Path, count: int, backlog: bool
) -> tuple[Run, dict[str, tuple[float, float]]]:
    """One ingest worker with the rules running stores the ``count`` events; the run ends at
    the commit that stores the last one (seen by an after-commit hook, not by polling). In
    backlog mode a worker subscribes and stops (its session stays), and a new one with the same
    client id starts once everything is published."""
    sessions = make_session_factory(make_engine(url))
    alarms = AlarmService(sessions, RulesConfig())
    finished = threading.Event()
    committed = [0, 0.0]

    def count_committed(events: list[Envelope]) -> None:
        committed[0] += len(events)
        if committed[0] >= count:
            committed[1] = time.perf_counter()
            finished.set()

    client_id = f"bench-ingest-{'backlog' if backlog else 'live'}"

    def started_worker() -> IngestWorker:
        worker = IngestWorker(
            BrokerTarget(port=port, client_id=client_id, username=USER, password=PASSWORD),
            IngestPipeline(sessions, device_info, [alarms.on_events, count_committed]),
            IngestConfig(),
            on_backlog=alarms.on_backlog,
            subscription=BACKLOG_SUBSCRIPTION if backlog else None,
        )
        worker.start()
        return worker

    workers = [started_worker()]
    if not workers[0].subscribed.wait(10):
        raise SystemExit("bench: the ingest worker did not subscribe")
    if backlog:  # away: its session keeps the subscription and collects the events
        workers[0].stop()

    def done() -> float:
        if not finished.wait(WAIT_S):
            raise SystemExit(f"bench: the worker stored {committed[0]} of {count}")
        return committed[1]

    before = stage_seconds()
    try:
        consumer = Consumer(
            lambda: workers.append(started_worker()), done, f"paho-mqtt-client-{client_id}"
        )
        run = timed_run(port, path, consumer, backlog)
    finally:
        workers[-1].stop()
    after = stage_seconds()
    return run, {
        stage: (after[stage][0] - before[stage][0], after[stage][1] - before[stage][1])
        for stage in STAGES
    }


@contextmanager
def bench_database(url: str | None) -> Iterator[str]:
    """``url``, or a fresh PostgreSQL database dropped afterwards, or a temporary SQLite file."""
    if url is not None:
        yield url
        return
    try:
        import psycopg

        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        print(f"note: PostgreSQL not reachable ({exc}); using SQLite")
        with tempfile.TemporaryDirectory(prefix="anju-bench-db-") as folder:
            yield f"sqlite:///{folder}/central.db"
        return
    name = f"anju_bench_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(url: str, folder: Path, count: int, modes: list[Mode]) -> tuple[dict[Mode, Path], str]:
    """Register the device and write ``count`` events it signed for each mode (their own event
    ids); returns the file of each mode and the database's dialect."""
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    key = Ed25519PrivateKey.generate()
    with make_session_factory(engine)() as session, session.begin():
        session.add(
            Device(
                id=DEVICE,
                kind="gate",
                site_id=SITE,
                public_key=public_key_text(key.public_key()),
                mqtt_username=DEVICE,
                mqtt_password_hash="-",
            )
        )
    decision = AccessDecision(gate_id="g1", decision="denied", reason="no_match", method="card")
    topic = event_topic(DEVICE, "access.decision").encode()
    paths = {mode: folder / f"events-{mode}.txt" for mode in modes}
    for path in paths.values():
        with path.open("wb") as out:
            for _ in range(count):
                envelope = Envelope(site_id=SITE, device_id=DEVICE, payload=decision)
                out.write(topic + b"\t" + envelope.signed_json(key) + b"\n")
    dialect = engine.dialect.name
    engine.dispose()
    return paths, dialect


def stored_once(url: str) -> tuple[int, int]:
    """Rows in the events table, and distinct event ids among them."""
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.scalar(select(func.count()).select_from(Event)) or 0
        distinct = connection.scalar(select(func.count(func.distinct(Event.event_id)))) or 0
    engine.dispose()
    return int(rows), int(distinct)


def profile_lines(
    stages: dict[str, tuple[float, float]], stored: Run, raw: Run, count: int
) -> list[str]:
    """Where the worker's time went, in us per event: each stage's wall time (waits for the
    database and for the GIL included) and the CPU time of the thread running it; receive is
    the CPU time of paho's network thread, which also sends the acknowledgements."""

    def us(seconds: float) -> str:
        return f"{seconds / count * 1e6:7.1f}"

    return [
        "profile_us_per_event:            wall     cpu",
        f"  receive (paho thread)             {us(stored.network_cpu_s)}",
        *(f"  {stage:24s} {us(wall)} {us(cpu)}" for stage, (wall, cpu) in stages.items()),
        f"  worker process, all threads       {us(stored.process_cpu_s)}",
        f"  bare paho process, all threads    {us(raw.process_cpu_s)}",
        f"  bare paho receive (paho thread)   {us(raw.network_cpu_s)}",
        f"gc_collections_by_generation: worker {'/'.join(map(str, stored.collections))}"
        f" bare paho {'/'.join(map(str, raw.collections))}",
    ]


def figures(mode: Mode, stored: float, raw: float) -> list[Figure]:
    """The two goals of issue #4 as figures of one mode."""
    ratio = stored / raw
    return [
        Figure(
            f"stored_events_per_s ({mode})",
            stored,
            "ev/s",
            f"raw_paho_receive_per_s ({mode})",
            raw,
            "higher",
            goal=f">= {GOAL_STORED_PER_S} ev/s",
            met=stored >= GOAL_STORED_PER_S,
        ),
        Figure(
            f"stored_vs_raw_ratio ({mode})",
            ratio,
            "x",
            "raw paho (1.0)",
            1.0,
            "higher",
            goal=f">= {GOAL_RATIO}",
            met=ratio >= GOAL_RATIO,
        ),
    ]


def measure(
    port: int, url: str, path: Path, count: int, mode: Mode
) -> tuple[list[str], list[Figure]]:
    """Both rates of one mode: the lines printed, and the figures."""
    backlog = mode == "backlog"
    raw = raw_run(port, path, count, backlog)
    stored, stages = stored_run(port, url, path, count, backlog)
    raw_per_s, stored_per_s = count / raw.seconds, count / stored.seconds
    lines = [
        f"[{mode}] raw_paho_receive_per_s: {raw_per_s:.0f}",
        f"[{mode}] stored_per_s: {stored_per_s:.0f}",
        *profile_lines(stages, stored, raw, count),
        f"[{mode}] ratio_stored_vs_raw: {stored_per_s / raw_per_s:.2f}",
    ]
    print("\n".join(lines), flush=True)
    return lines, figures(mode, stored_per_s, raw_per_s)


def run(
    count: int, modes: list[Mode], database_url: str | None, port: int, json_path: Path | None
) -> int:
    """Measure both rates in each mode, print them with the profile; 1 if an event was lost or
    stored twice."""
    results = BenchResults(bench="ingest", setup="")
    with (
        tempfile.TemporaryDirectory(prefix="anju-bench-") as tmp,
        bench_database(database_url) as url,
    ):
        paths, dialect = prepare(url, Path(tmp), count, modes)
        results.setup = (
            f"{count} signed events per mode ({', '.join(modes)}), one worker, rules on, "
            f"{dialect}, publisher in a child process"
        )
        broker = start_broker(Path(tmp), port)
        try:
            for mode in modes:
                lines, found = measure(port, url, paths[mode], count, mode)
                results.figures += found
                results.notes += [line.strip() for line in lines]
        finally:
            broker.terminate()
            broker.wait(10)
        rows, distinct = stored_once(url)
    published = count * len(modes)
    checked = f"stored_rows: {rows} distinct: {distinct} published: {published}"
    print(checked)
    results.notes.append(checked)
    if json_path is not None:
        write_results(json_path, results)
    if rows == distinct == published:
        return 0
    print("bench: events were lost or stored twice", file=sys.stderr)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="per mode")
    parser.add_argument(
        "--mode", choices=("live", "backlog", "both"), default="both", help="see the docstring"
    )
    parser.add_argument(
        "--database-url", default=None, help="default: a fresh PostgreSQL database (dropped after)"
    )
    parser.add_argument("--port", type=int, default=None, help="of the private broker (a free one)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--publish", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish is not None:
        publish_file(int(args.port), args.publish)
        return 0
    modes: list[Mode] = ["live", "backlog"] if args.mode == "both" else [args.mode]
    return run(args.events, modes, args.database_url, args.port or free_port(), args.json)


if __name__ == "__main__":
    sys.exit(main())
