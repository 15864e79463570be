"""``anju central serve`` migrates an empty database at start and serves the API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from tests.support.services import free_port, wait_for_port

TIMEOUT_S = 30.0


def test_serve_migrates_and_answers(database_url: str, tmp_path: Path) -> None:
    config = tmp_path / "central.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "central": {
                    "signing_key_file": str(tmp_path / "signing.key"),
                    "at_rest_key_file": str(tmp_path / "at-rest.key"),
                    "jwt_secret_file": str(tmp_path / "jwt.secret"),
                }
            }
        )
    )
    port = free_port()
    command = [sys.executable, "-m", "anju.cli", "central", "serve", "--config", str(config)]
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    server = subprocess.Popen([*command, "--port", str(port)], env=env, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, TIMEOUT_S)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/api/compounds").status_code == 401
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "Anju central"
        assert (tmp_path / "signing.key").stat().st_mode & 0o777 == 0o600
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=TIMEOUT_S)
    assert b"Traceback" not in stderr, stderr.decode()


def test_bad_config_key_is_named(tmp_path: Path) -> None:
    config = tmp_path / "central.yaml"
    config.write_text("central:\n  databse_url: sqlite://\n")
    done = subprocess.run(
        [sys.executable, "-m", "anju.cli", "central", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert done.returncode == 2 and "databse_url" in done.stderr
