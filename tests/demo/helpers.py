"""Helpers of the demo tests: the running demo, polling, and leftover processes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


@dataclass
class RunningDemo:
    """A started ``scripts/demo.py`` with its state file once it is ready, and the broker it
    was asked to run (``--broker``)."""

    process: subprocess.Popen[bytes]
    workdir: Path
    log_path: Path
    state: dict[str, Any]
    api: httpx.Client
    broker: str

    def interrupt(self, timeout_s: float = 90.0) -> int:
        """Send SIGINT (as Ctrl-C does) and wait for the demo to exit; its status."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout_s)


def poll(find: Callable[[], T | None], what: str, timeout_s: float, demo: RunningDemo) -> T:
    """Call ``find`` until it returns something; fails on timeout or if the demo died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert demo.process.poll() is None, f"demo exited: {demo.log_path.read_text()[-3000:]}"
        found = find()
        if found is not None:
            return found
        time.sleep(1.0)
    raise AssertionError(f"{what} not seen within {timeout_s:.0f} s")


def processes_mentioning(text: str) -> list[int]:
    """Ids of running processes whose command line contains ``text`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            status = (entry / "status").read_text()
        except OSError:
            continue
        if text.encode() in cmdline and "State:\tZ" not in status:
            found.append(int(entry.name))
    return found
