"""The demo from a bare machine to events flowing: each step logged, every child stopped after."""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from scripts.demo.broker import BrokerChoice, DemoBroker, start_broker
from scripts.demo.central import CentralInfo, dashboard_url, start_central
from scripts.demo.faces import RESIDENT_FACES, enrolment_photos
from scripts.demo.feed import FeedLogger
from scripts.demo.nodes import (
    finish_videos,
    gate_config,
    outlet_config,
    start_videos,
    write_node_config,
)
from scripts.demo.procs import Child, Children, DemoError, wait_until
from scripts.demo.site import Api, DemoSite, create_site, gallery_applied

log = logging.getLogger(__name__)
MARKER = ".anju-demo"
GALLERY_TIMEOUT_S = 120.0
SUMMARY_EVERY_S = 30.0


@dataclass(frozen=True)
class DemoOptions:
    """Where the demo keeps its files, how long it runs (None: until Ctrl-C), which broker."""

    workdir: Path
    duration_s: float | None
    broker: BrokerChoice = "auto"


def reset_workdir(folder: Path) -> None:
    """Empty ``folder`` for a new run; refuses a non-empty folder the demo did not make."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise DemoError(f"{folder} is not empty and not a demo folder: choose another")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by scripts/demo.py; erased at each run\n", "utf-8")


def _start_nodes(
    folder: Path, site: DemoSite, broker: DemoBroker, children: Children
) -> tuple[Child, Child]:
    gate_folder, outlet_folder = folder / "gate", folder / "outlet"
    gate = write_node_config("gate", gate_folder, gate_config(gate_folder, site, broker))
    outlet = write_node_config("outlet", outlet_folder, outlet_config(outlet_folder, site, broker))
    return children.start("gate", gate, stdin_pipe=True), children.start("outlet", outlet)


def _present_pass(gate: Child, pass_text: str) -> None:
    """Type the visitor's QR pass on the gate's stdin reader, as a scanner would."""
    if gate.process.stdin is None:
        raise DemoError("the gate node has no stdin reader")
    gate.process.stdin.write(f"qr:{pass_text}\n".encode("ascii"))
    gate.process.stdin.flush()
    log.info("step=visitor_pass_presented reader=stdin pid=%d", gate.process.pid)


def _write_state(
    folder: Path, broker: DemoBroker, central: CentralInfo, site: DemoSite, children: Children
) -> Path:
    """``demo.json``: what a test or a curious user needs to query the running demo."""
    state = {
        "broker": asdict(broker),
        "central": asdict(central) | {"config": str(central.config)},
        "dashboard": dashboard_url(central.url),
        "compound_id": site.compound_id,
        "gate_id": site.gate_id,
        "outlet_id": site.outlet_id,
        "gate_device_id": site.gate_device["device"]["id"],
        "outlet_device_id": site.outlet_device["device"]["id"],
        "residents": site.residents,
        "stranger_faces": sorted({0, 1, 2, 3, 4, 5} - set(RESIDENT_FACES)),
        "pids": children.services(),
    }
    path = folder / "demo.json"
    path.write_text(json.dumps(state, ensure_ascii=False, indent=2), "utf-8")
    path.chmod(0o600)  # it holds the admin password
    return path


def _banner(central: CentralInfo, folder: Path) -> None:
    residents = ", ".join(f"{name} (face {i})" for i, name in RESIDENT_FACES.items())
    print(
        f"\nAnju demo running.\n  residents: {residents} enrolled with consent; the other faces"
        " of the photo are strangers; a visitor's QR pass was shown at the gate\n"
        f"  dashboard: {dashboard_url(central.url)}\n"
        f"  login:     {central.username} / {central.password}\n"
        f"  API docs:  {central.url}/docs\n  logs:      {folder / 'logs'}\n"
        "Press Ctrl-C to stop everything.\n",
        flush=True,
    )


def _run_until(options: DemoOptions, children: Children, feed: FeedLogger) -> None:
    started = last = time.monotonic()
    while options.duration_s is None or time.monotonic() - started < options.duration_s:
        children.check()
        time.sleep(0.5)
        if time.monotonic() - last >= SUMMARY_EVERY_S:
            last = time.monotonic()
            seen = " ".join(f"{k}={v}" for k, v in sorted(feed.counts().items()))
            log.info("step=running seen %s", seen or "nothing yet")
    log.info("step=duration_reached seconds=%.0f", options.duration_s or 0)


def run_demo(options: DemoOptions, children: Children) -> None:
    """Every step of the demo; returns when the duration is over (the caller stops children)."""
    folder = options.workdir
    videos = start_videos(folder, children)
    photos = enrolment_photos()
    broker = start_broker(folder / "broker", children, options.broker)
    central = start_central(folder / "central", broker, children, secrets.token_hex(3))
    api = Api(central.url, central.username, central.password)
    try:
        site = create_site(api, central.city_id, photos)
        finish_videos(videos)
        gate, _ = _start_nodes(folder, site, broker, children)
        device_id = site.gate_device["device"]["id"]
        wait_until(
            lambda: gallery_applied(api, site.compound_id, device_id),
            "the gate applying the gallery", GALLERY_TIMEOUT_S, children,
        )  # fmt: skip
        log.info("step=gallery_applied gate_device=%s", device_id)
        _present_pass(gate, site.visitor_pass)
        state = _write_state(folder, broker, central, site, children)
    finally:
        api.close()
    log.info("step=ready state=%s", state)
    _banner(central, folder)
    feed = FeedLogger(central.url, central.username, central.password)
    feed.start()
    try:
        _run_until(options, children, feed)
    finally:
        feed.stop()
