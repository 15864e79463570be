"""What the node commands share: options, checks, running until a signal, secret files."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Generic, Protocol, TypeVar

from edge.node.lifecycle import Part

log = logging.getLogger(__name__)

EXIT_ERROR = 2
SecretMaker = Callable[[], str]


class _Device(Protocol):
    @property
    def device_id(self) -> str: ...


class NodeConfig(Protocol):
    """A node's configuration, as far as its command reads it."""

    @property
    def device(self) -> _Device: ...


Config = TypeVar("Config", bound=NodeConfig)


def add_node_command(
    group: Any, kind: str, help_text: str, handler: Callable[[argparse.Namespace], int]
) -> None:
    """Add the ``kind`` node command (``--config``, ``--check``, ``--init-keys``) to ``group``."""
    parser = group.add_parser(kind, help=help_text)
    parser.add_argument("--config", type=Path, required=True, help=f"{kind} YAML configuration")
    parser.add_argument("--check", action="store_true", help="validate the configuration, exit")
    parser.add_argument(
        "--init-keys",
        action="store_true",
        help="create the missing key and token files the configuration names, then exit",
    )
    parser.set_defaults(handler=handler)


@dataclass(frozen=True)
class NodeCommand(Generic[Config]):
    """How one kind of node is loaded, keyed, built and which start-up errors it reports."""

    kind: str
    load: Callable[[Path], Config]
    init_keys: Callable[[Config], int]
    build: Callable[[Config], Part]
    start_errors: tuple[type[Exception], ...]

    def run(self, args: argparse.Namespace) -> int:
        """Validate the configuration, then create keys, check, or run until a signal."""
        config = self.load(args.config)
        if args.init_keys:
            return self.init_keys(config)
        if args.check:
            print(f"{args.config}: valid {self.kind} configuration for {config.device.device_id}")
            return 0
        try:
            node = self.build(config)
        except self.start_errors as exc:
            print(f"anju: error: cannot start the {self.kind} node: {exc}", file=sys.stderr)
            return EXIT_ERROR
        return run_until_signalled(node)


def run_until_signalled(node: Part) -> int:
    """Start ``node``, run until SIGINT or SIGTERM, stop it; the exit status (0)."""
    stopping = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("event=signal signal=%d", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    node.start()
    try:
        stopping.wait()
    finally:
        node.stop()
    return 0


def new_token() -> str:
    """A fresh random token (bearer tokens, hash keys), URL-safe text."""
    return secrets.token_urlsafe(32)


def create_key_files(
    device_key_file: Path, wanted: dict[Path, SecretMaker], evidence_token_file: Path | None
) -> None:
    """Create the device key, the ``wanted`` files and the evidence token file if missing.

    Each file is created owner-only (0600) and never overwritten; the device public key is
    printed for registration with central.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from edge.contract import load_private_key, private_key_text, public_key_text

    files = {device_key_file: lambda: private_key_text(Ed25519PrivateKey.generate()), **wanted}
    if evidence_token_file is not None:
        files[evidence_token_file] = new_token
    for path, make in files.items():
        if path.exists():
            print(f"kept    {path}")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(make() + "\n")
        print(f"created {path}")
    device_key = load_private_key(device_key_file.read_text(encoding="ascii"))
    print(
        f"device public key (register it with central): {public_key_text(device_key.public_key())}"
    )
