"""Event -> dashboard latency: a signed event published to central until its live feed shows it.

Starts a private Mosquitto and the real ``anju central serve`` (API and ingest in one process,
SQLite in a temporary folder, or PostgreSQL with ``--database-url``), provisions a gate device
through the API and reads the dashboard's live feed (``/api/stream``, server-sent events) with
an HTTP client. Each sample publishes one signed ``access.decision`` with QoS 1 and times it
until the feed carries its event id: MQTT, signature and schema checks, the database commit and
the SSE push. The baseline, interleaved sample by sample in the same run, is the raw MQTT
publish -> receive latency of the same bytes to a bare paho subscriber on the same broker.
Prints p50/p95 of both; ``--json PATH`` also writes them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from anju.logs import setup_logging  # noqa: E402
from edge.contract import AccessDecision, Envelope, event_topic, load_private_key  # noqa: E402
from scripts.bench.results import BenchResults, Figure, Series, write_results  # noqa: E402
from scripts.demo.broker import start_broker  # noqa: E402
from scripts.demo.central import start_central  # noqa: E402
from scripts.demo.procs import Children  # noqa: E402
from scripts.demo.site import Api  # noqa: E402

log = logging.getLogger("scripts.bench.dashboard_latency")
ARRIVAL_TIMEOUT_S = 10.0
WARM_UP_TIMEOUT_S = 60.0
GAP_S = 0.05
RAW_TOPIC = "bench/raw"
PERCENTILES = (10, 25, 50, 75, 90, 95, 99)
HIERARCHY = (("district", "基准区"), ("street", "基准街道"), ("community", "基准社区"))


class Arrivals:
    """When each awaited key arrived (``time.perf_counter``), filled by another thread."""

    def __init__(self) -> None:
        self._times: dict[str, float] = {}
        self._arrived = threading.Condition()

    def mark(self, key: str) -> None:
        """Record that ``key`` arrived now."""
        now = time.perf_counter()
        with self._arrived:
            self._times.setdefault(key, now)
            self._arrived.notify_all()

    def wait(self, key: str, timeout_s: float) -> float | None:
        """When ``key`` arrived, waiting up to ``timeout_s``; None if it never did."""
        with self._arrived:
            self._arrived.wait_for(lambda: key in self._times, timeout_s)
            return self._times.get(key)


class FeedReader:
    """A daemon thread reading central's SSE stream, marking each event id it carries."""

    def __init__(self, url: str, token: str, arrivals: Arrivals) -> None:
        self._request = (f"{url}/api/stream", {"Authorization": f"Bearer {token}"})
        self._arrivals = arrivals
        self.connected = threading.Event()
        self.error: str | None = None
        threading.Thread(target=self._run, name="bench-feed", daemon=True).start()

    def _run(self) -> None:
        stream, headers = self._request
        timeout = httpx.Timeout(10.0, read=None)
        try:
            with httpx.stream("GET", stream, headers=headers, timeout=timeout) as response:
                response.raise_for_status()
                for line in response.iter_lines():
                    if line.startswith(": connected"):
                        self.connected.set()
                    elif line.startswith("data: "):
                        event_id = json.loads(line.removeprefix("data: ")).get("event_id")
                        if isinstance(event_id, str):
                            self._arrivals.mark(event_id)
        except httpx.HTTPError as exc:
            self.error = str(exc)
            log.error("feed_failed error=%s", exc)


@dataclass(frozen=True)
class GateDevice:
    """A provisioned gate device: what it signs and publishes with."""

    device_id: str
    site_id: str
    gate_id: str
    private_key: str

    def signed_event(self) -> tuple[str, str, bytes]:
        """(event id, topic, signed JSON) of a new card grant at the gate."""
        decision = AccessDecision(
            gate_id=self.gate_id, decision="granted", reason="card", method="card"
        )
        envelope = Envelope(site_id=self.site_id, device_id=self.device_id, payload=decision)
        topic = event_topic(self.device_id, envelope.kind)
        return (
            str(envelope.event_id),
            topic,
            envelope.signed_json(load_private_key(self.private_key)),
        )


def provision_gate(api: Api, city_id: str) -> GateDevice:
    """A hierarchy under the city, a compound with a gate, and a gate device for it."""
    parent = city_id
    for level, name in HIERARCHY:
        body = {"name": name, "level": level, "parent_id": parent}
        parent = api.call("POST", "/api/nodes", json=body)["id"]
    compound = api.call("POST", "/api/compounds", json={"name": "基准小区", "community_id": parent})
    gate = api.call("POST", f"/api/compounds/{compound['id']}/gates", json={"name": "北门"})
    made = api.call("POST", "/api/devices", json={"kind": "gate", "gate_id": gate["id"]})
    device = made["device"]
    return GateDevice(device["id"], device["site_id"], gate["id"], made["private_key"])


def mqtt_client(port: int, on_message: Callable[[str], None] | None = None) -> mqtt.Client:
    """A connected, looping paho client; ``on_message`` gets each message's topic."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:8]}")
    if on_message is not None:
        client.on_message = lambda _c, _u, message: on_message(message.topic)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def timed_publish(
    publisher: mqtt.Client, topic: str, data: bytes, key: str, arrivals: Arrivals
) -> float | None:
    """Ms from publishing ``data`` (QoS 1) until ``key`` arrives; None if it never does."""
    started = time.perf_counter()
    publisher.publish(topic, data, qos=1)
    arrived = arrivals.wait(key, ARRIVAL_TIMEOUT_S)
    return None if arrived is None else (arrived - started) * 1000


def warm_up(publisher: mqtt.Client, gate: GateDevice, arrivals: Arrivals) -> None:
    """Publish events until one reaches the feed (central's ingest may still be subscribing)."""
    deadline = time.monotonic() + WARM_UP_TIMEOUT_S
    while time.monotonic() < deadline:
        event_id, topic, data = gate.signed_event()
        publisher.publish(topic, data, qos=1)
        if arrivals.wait(event_id, 2.0) is not None:
            return
    raise RuntimeError(f"no event reached the live feed within {WARM_UP_TIMEOUT_S:.0f} s")


@dataclass
class Samples:
    """Latencies in ms of the dashboard path and of the raw MQTT baseline, and losses."""

    dashboard: list[float]
    raw: list[float]
    lost_dashboard: int = 0
    lost_raw: int = 0


def measure(broker_port: int, gate: GateDevice, arrivals: Arrivals, count: int) -> Samples:
    """``count`` interleaved pairs of samples: raw MQTT to a bare subscriber, then dashboard."""
    subscriber = mqtt_client(broker_port, arrivals.mark)
    subscriber.subscribe(f"{RAW_TOPIC}/#", qos=1)
    publisher = mqtt_client(broker_port)
    samples = Samples([], [])
    try:
        warm_up(publisher, gate, arrivals)
        for index in range(count):
            event_id, topic, data = gate.signed_event()
            raw_topic = f"{RAW_TOPIC}/{index}"
            raw = timed_publish(publisher, raw_topic, data, raw_topic, arrivals)
            dashboard = timed_publish(publisher, topic, data, event_id, arrivals)
            if raw is None:
                samples.lost_raw += 1
            else:
                samples.raw.append(raw)
            if dashboard is None:
                samples.lost_dashboard += 1
            else:
                samples.dashboard.append(dashboard)
            time.sleep(GAP_S)
            if (index + 1) % 50 == 0:
                log.info("progress samples=%d of=%d", index + 1, count)
    finally:
        for client in (publisher, subscriber):
            client.disconnect()
            client.loop_stop()
    return samples


def results_of(samples: Samples, database: str) -> BenchResults:
    """p50/p95 of the dashboard path next to raw MQTT's, and their percentile curves."""
    results = BenchResults(
        "dashboard_latency",
        "A signed access.decision published with QoS 1 through a private Mosquitto to the real "
        f"`anju central serve` ({database}), timed until the dashboard's live feed (SSE, read "
        "by an HTTP client) carries it; baseline: the same bytes to a bare paho subscriber.",
    )
    for name in ("p50", "p95"):
        percent = int(name[1:])
        results.figures.append(
            Figure(
                f"event -> dashboard feed {name}",
                float(np.percentile(samples.dashboard, percent)),
                "ms",
                f"raw MQTT publish -> receive {name}, ms",
                float(np.percentile(samples.raw, percent)),
                "lower",
            )
        )
    curves = {
        "event -> dashboard feed": samples.dashboard,
        "raw MQTT (bare paho)": samples.raw,
    }
    results.series.append(
        Series(
            "Latency percentiles",
            "percentile",
            "ms",
            [float(p) for p in PERCENTILES],
            {
                label: [float(v) for v in np.percentile(ms, PERCENTILES)]
                for label, ms in curves.items()
            },
            log_y=True,
        )
    )
    results.notes.append(
        f"{len(samples.dashboard)} samples; lost (not seen within {ARRIVAL_TIMEOUT_S:.0f} s): "
        f"dashboard {samples.lost_dashboard}, raw {samples.lost_raw}"
    )
    return results


def run(folder: Path, count: int) -> tuple[Samples, str]:
    """Start the broker and central in ``folder``, measure, stop them; (samples, database)."""
    children = Children(folder / "logs")
    try:
        broker = start_broker(folder / "broker", children, "mosquitto")
        central = start_central(folder / "central", broker, children, uuid.uuid4().hex[:6])
        api = Api(central.url, central.username, central.password)
        gate = provision_gate(api, central.city_id)
        arrivals = Arrivals()
        token = str(api.client.headers["Authorization"]).removeprefix("Bearer ")
        feed = FeedReader(central.url, token, arrivals)
        if not feed.connected.wait(ARRIVAL_TIMEOUT_S):
            raise RuntimeError(f"the live feed did not connect: {feed.error}")
        samples = measure(broker.port, gate, arrivals, count)
        api.close()
        return samples, central.database_url.split(":", 1)[0].split("+", 1)[0]
    finally:
        children.stop_all()


def main() -> int:
    """Run the benchmark and print its figures; 1 if an event never reached the feed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200, help="events timed on each path")
    parser.add_argument("--database-url", help="PostgreSQL for central (default: SQLite)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    setup_logging("info")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    with tempfile.TemporaryDirectory(prefix="anju-bench-dashboard-") as folder:
        samples, database = run(Path(folder), args.samples)
    if not samples.dashboard or not samples.raw:
        print(f"no sample arrived: {samples}")
        return 1
    results = results_of(samples, database)
    for figure in results.figures:
        print(
            f"{figure.name}: {figure.value:.1f} ms  {figure.baseline_name}: "
            f"{figure.baseline_value:.1f}  ratio={figure.ratio:.3f}"
        )
    print(results.notes[-1])
    if args.json:
        write_results(args.json, results)
    return 1 if samples.lost_dashboard or samples.lost_raw else 0


if __name__ == "__main__":
    sys.exit(main())
