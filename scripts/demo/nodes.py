"""The demo's edge nodes: configurations derived from the example ones, keys, sample videos."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from scripts.demo.broker import DemoBroker
from scripts.demo.central import ANJU
from scripts.demo.procs import Child, Children, DemoError, free_port
from scripts.demo.site import DemoSite

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
VIDEO_TIMEOUT_S = 300


def start_videos(folder: Path, children: Children) -> list[tuple[Path, Child]]:
    """Start writing the gate and outlet sample videos (the benchmarks' generators)."""
    jobs = []
    for kind in ("gate", "outlet"):
        video = folder / kind / "demo.avi"
        video.parent.mkdir(parents=True, exist_ok=True)
        script = REPO / "scripts/bench" / f"{kind}.py"
        argv = [sys.executable, str(script), "--write-demo-video", str(video)]
        jobs.append((video, children.start(f"{kind}-video", argv, service=False)))
    return jobs


def finish_videos(jobs: list[tuple[Path, Child]]) -> None:
    """Wait for the video writers; ``DemoError`` if one failed."""
    for video, job in jobs:
        if job.process.wait(timeout=VIDEO_TIMEOUT_S) != 0 or not video.is_file():
            raise DemoError(f"could not write the sample video {video}: see {job.log_path}")
        log.info("step=video path=%s bytes=%d", video, video.stat().st_size)


def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "configs" / name).read_text("utf-8"))
    return loaded


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text.strip() + "\n")


def _evidence(config: dict[str, Any], folder: Path) -> None:
    config["evidence"]["folder"] = str(folder / "evidence")
    config["evidence"]["server"].update(port=free_port(), token_file=str(folder / "evidence.token"))


def _transport(config: dict[str, Any], folder: Path, broker: DemoBroker) -> None:
    """The broker's settings (the device id as user name where one is wanted), the outbox."""
    transport = config["transport"]
    transport["mqtt"].update(broker.client_settings(config["device"]["device_id"]))
    transport["outbox"]["path"] = str(folder / "outbox.sqlite3")


def gate_config(folder: Path, site: DemoSite, broker: DemoBroker) -> dict[str, Any]:
    """configs/gate.example.yaml made to run as the provisioned gate device in ``folder``."""
    config = _example("gate.example.yaml")
    device = site.gate_device
    config["device"] = {
        "device_id": device["device"]["id"],
        "site_id": device["device"]["site_id"],
        "key_file": str(folder / "device.key"),
        "gate_ids": [site.gate_id],
    }
    config["cameras"][0].update(gate_id=site.gate_id, source=str(folder / "demo.avi"))
    config["policy"]["gates"] = {}
    _transport(config, folder, broker)
    config["gallery"] = {
        "path": str(folder / "gallery.sqlite3"),
        "at_rest_key_file": str(folder / "at_rest.key"),
        "gallery_key_file": str(folder / "gallery.key"),
        "central_public_key": device["central_public_key"],
    }
    config["credentials"]["readers"] = [{"kind": "stdin", "gate_id": site.gate_id}]
    _evidence(config, folder)
    config["heartbeat_interval_s"] = 10
    _write_secret(folder / "device.key", device["private_key"])
    _write_secret(folder / "gallery.key", device["gallery_key"])
    return config


def outlet_config(folder: Path, site: DemoSite, broker: DemoBroker) -> dict[str, Any]:
    """configs/outlet.example.yaml made to run as the provisioned outlet device in ``folder``."""
    config = _example("outlet.example.yaml")
    device = site.outlet_device
    config["device"] = {
        "device_id": device["device"]["id"],
        "site_id": device["device"]["site_id"],
        "outlet_id": site.outlet_id,
        "key_file": str(folder / "device.key"),
    }
    config["desk_camera"]["source"] = str(folder / "demo.avi")
    config["sender"].update(hash_key_file=str(folder / "sender-hash.key"), http_port=free_port())
    _transport(config, folder, broker)
    _evidence(config, folder)
    config["heartbeat_interval_s"] = 10
    _write_secret(folder / "device.key", device["private_key"])
    return config


def write_node_config(kind: str, folder: Path, config: dict[str, Any]) -> list[str]:
    """Write ``folder/<kind>.yaml``, create its missing keys (``--init-keys``); the run command."""
    path = folder / f"{kind}.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    base = [*ANJU, "--log-level", "info", "edge", kind, "--config", str(path)]
    done = subprocess.run([*base, "--init-keys"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DemoError(f"{kind} --init-keys failed: {done.stderr.strip()}")
    log.info("step=node_config kind=%s config=%s", kind, path)
    return base
