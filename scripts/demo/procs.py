"""Child processes of the demo: started in their own session, logged to files, stopped in order."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
STOP_TIMEOUT_S = 20.0


class DemoError(RuntimeError):
    """A step of the demo that cannot go on (a child died, a service never came up)."""


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _die_with_parent() -> None:
    """In the child before exec: receive SIGTERM if the demo itself is killed (Linux)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    """One started process, the log file its output goes to, and whether it must keep running
    (a service) or ends by itself (a job)."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    service: bool

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None


class Children:
    """Every process the demo started; ``stop_all`` ends them newest first."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[Child] = []

    def start(
        self,
        name: str,
        argv: list[str],
        *,
        stdin_pipe: bool = False,
        service: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> Child:
        """Start ``argv`` in its own session (the terminal's Ctrl-C reaches only the demo);
        ``env`` is added to this process's environment."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as output:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
                env={**os.environ, **env} if env else None,
            )
        child = Child(name, process, log_path, service)
        self.started.append(child)
        log.info("step=start child=%s pid=%d log=%s", name, process.pid, log_path)
        return child

    def check(self) -> None:
        """``DemoError`` naming the first service that has exited."""
        for child in self.started:
            code = child.process.poll()
            if child.service and code is not None:
                raise DemoError(f"{child.name} exited with status {code}: see {child.log_path}")

    def services(self) -> dict[str, int]:
        """Process id of each service by name."""
        return {child.name: child.process.pid for child in self.started if child.service}

    def stop_all(self) -> None:
        """SIGTERM each child (newest first), wait for it, SIGKILL its group if it hangs."""
        while self.started:
            child = self.started.pop()
            _close_stdin(child.process.stdin)
            if child.alive():
                os.killpg(child.process.pid, signal.SIGTERM)
            try:
                code = child.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.warning("step=stop child=%s outcome=killed", child.name)
                os.killpg(child.process.pid, signal.SIGKILL)
                code = child.process.wait()
            _reap_group(child.process.pid)
            log.info("step=stop child=%s status=%s", child.name, code)


def _close_stdin(stream: IO[bytes] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):
            stream.close()


def _reap_group(group: int) -> None:
    """Kill whatever is left in a stopped child's process group (its own children)."""
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        return
    log.warning("step=stop group=%d outcome=leftovers_killed", group)


def wait_until(ready: Callable[[], bool], what: str, timeout_s: float, children: Children) -> None:
    """Poll ``ready`` until true; ``DemoError`` on timeout or a dead child."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        children.check()
        if ready():
            return
        time.sleep(0.25)
    raise DemoError(f"{what} did not happen within {timeout_s:.0f} s")
