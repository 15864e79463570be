"""Central for the demo: its configuration, the first node and admin (CLI), and the server."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from scripts.demo.broker import DemoBroker
from scripts.demo.procs import Children, DemoError, free_port, wait_until

log = logging.getLogger(__name__)
ANJU = [sys.executable, "-m", "anju.cli"]
START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class CentralInfo:
    """Where the demo's central listens and how to log in."""

    config: Path
    url: str
    database_url: str
    username: str
    password: str
    city_id: str


def write_config(folder: Path, broker: DemoBroker) -> tuple[Path, str]:
    """Central's YAML in ``folder`` (SQLite there unless DATABASE_URL is set); (path, db URL)."""
    folder.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder.resolve()}/central.db"
    section = {
        "database_url": database_url,
        "signing_key_file": str(folder / "signing.key"),
        "at_rest_key_file": str(folder / "at-rest.key"),
        "jwt_secret_file": str(folder / "jwt.secret"),
        "access_token_minutes": 60,
        "mqtt": broker.client_settings("central") | {"client_id": f"anju-demo-{broker.port}"},
    }
    path = folder / "central.yaml"
    path.write_text(yaml.safe_dump({"central": section}, allow_unicode=True), encoding="utf-8")
    return path, database_url


def _cli(args: list[str], stdin: str = "") -> str:
    """Run ``anju`` with ``args``; its stdout, or ``DemoError`` with its stderr."""
    done = subprocess.run(
        [*ANJU, *args], input=stdin, capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode != 0:
        raise DemoError(f"anju {' '.join(args[:3])} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def bootstrap(config: Path, database_url: str, run_tag: str) -> tuple[str, str, str]:
    """Create the city node and an admin scoped to it; (city id, username, password)."""
    on_sqlite = database_url.startswith("sqlite")
    option = ["--config", str(config)]
    name = "杭州市" if on_sqlite else f"杭州市-{run_tag}"
    city = _cli(["central", "nodes", "create", *option, "--name", name, "--level", "city"]).split()[
        -1
    ]
    username = "admin" if on_sqlite else f"admin-{run_tag}"
    password = f"demo-{secrets.token_urlsafe(9)}"
    user = ["--username", username, "--role", "admin", "--scope-node", city]
    _cli(["central", "users", "create", *option, *user], stdin=password + "\n")
    log.info("step=central_bootstrap city=%s admin=%s", city, username)
    return city, username, password


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/docs", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def start_central(
    folder: Path, broker: DemoBroker, children: Children, run_tag: str
) -> CentralInfo:
    """Write the config, bootstrap, start ``anju central serve`` and wait until it answers."""
    config, database_url = write_config(folder, broker)
    city, username, password = bootstrap(config, database_url, run_tag)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    where = ["--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    serve = [*ANJU, "--log-level", "info", "central", "serve", *where]
    children.start("central", serve)
    wait_until(lambda: _answers(url), "central answering on " + url, START_TIMEOUT_S, children)
    log.info("step=central url=%s database=%s", url, database_url.split("@")[-1])
    return CentralInfo(config, url, database_url, username, password, city)


def dashboard_url(url: str) -> str:
    """The dashboard's page if central serves one from ``/``, else the interactive API docs."""
    try:
        response = httpx.get(f"{url}/", timeout=5.0, follow_redirects=True)
    except httpx.HTTPError:
        return f"{url}/docs"
    if response.status_code == 200 and "html" in response.headers.get("content-type", ""):
        return str(response.url)
    return f"{url}/docs"
