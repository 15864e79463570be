"""The demo script run for real in a folder of the test's own, and ways to query it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.demo.broker import mosquitto_binary
from tests.demo.helpers import RunningDemo
from tests.support.services import unavailable

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 240.0
SAFETY_DURATION_S = 400


def _wait_for_state(process: subprocess.Popen[bytes], state_path: Path, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not state_path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the demo never became ready:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.5)


@pytest.fixture(scope="module", params=["mosquitto", "embedded"])
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, model_dir: Path
) -> Iterator[RunningDemo]:
    """The demo running on Mosquitto, then on the embedded broker (``--broker``), each with
    SQLite in its own folder (or DATABASE_URL if set); killed at the end."""
    broker: str = request.param
    if broker == "mosquitto" and mosquitto_binary() is None:
        unavailable("the mosquitto binary is not installed (apt-get install mosquitto)")
    workdir = tmp_path_factory.mktemp(f"demo-{broker}") / "run"
    log_path = workdir.parent / "demo.log"
    argv = [sys.executable, str(REPO / "scripts/demo.py"), "--workdir", str(workdir)]
    argv += ["--broker", broker]
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            [*argv, "--duration", str(SAFETY_DURATION_S)], stdout=output, stderr=output, cwd=REPO
        )
    try:
        _wait_for_state(process, workdir / "demo.json", log_path)
        state = json.loads((workdir / "demo.json").read_text("utf-8"))
        central = state["central"]
        api = httpx.Client(base_url=central["url"], timeout=30.0)
        form = {"username": central["username"], "password": central["password"]}
        token = api.post("/api/auth/token", data=form).raise_for_status().json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        yield RunningDemo(process, workdir, log_path, state, api, broker)
        api.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
