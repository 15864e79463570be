"""``anju edge outlet --config FILE``: run an outlet node until interrupted."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge.outlet.config import OutletConfig

log = logging.getLogger(__name__)

EXIT_ERROR = 2


def register(group: Any) -> None:
    """Add the ``outlet`` command to the ``edge`` subcommand group."""
    parser = group.add_parser("outlet", help="run a courier-outlet inspection node")
    parser.add_argument("--config", type=Path, required=True, help="outlet YAML configuration")
    parser.add_argument("--check", action="store_true", help="validate the configuration, exit")
    parser.add_argument(
        "--init-keys",
        action="store_true",
        help="create the missing key and token files the configuration names, then exit",
    )
    parser.set_defaults(handler=run_outlet)


def run_outlet(args: argparse.Namespace) -> int:
    """Validate the configuration, start the node, and run until SIGINT or SIGTERM."""
    from edge.contract import SignatureError
    from edge.outlet.app import OutletNode
    from edge.outlet.config import load_outlet_config
    from edge.outlet.detector import DetectorError

    config = load_outlet_config(args.config)
    if args.init_keys:
        return init_keys(config)
    if args.check:
        print(f"{args.config}: valid outlet configuration for {config.device.device_id}")
        return 0
    try:
        node = OutletNode(config)
    except (OSError, ValueError, RuntimeError, DetectorError, SignatureError) as exc:
        print(f"anju: error: cannot start the outlet node: {exc}", file=sys.stderr)
        return EXIT_ERROR
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


def init_keys(config: OutletConfig) -> int:
    """Create the device key, sender hash key and evidence token files if missing."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from edge.contract import load_private_key, private_key_text, public_key_text

    wanted: dict[Path, Callable[[], str]] = {
        config.device.key_file: lambda: private_key_text(Ed25519PrivateKey.generate()),
        config.sender.hash_key_file: lambda: secrets.token_urlsafe(32),
    }
    if config.evidence.server.token_file is not None:
        wanted[config.evidence.server.token_file] = lambda: secrets.token_urlsafe(32)
    for path, make in wanted.items():
        if path.exists():
            print(f"kept    {path}")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(make() + "\n")
        print(f"created {path}")
    device_key = load_private_key(config.device.key_file.read_text(encoding="ascii"))
    print(
        f"device public key (register it with central): {public_key_text(device_key.public_key())}"
    )
    print("every outlet of one operator should share the sender hash key (same ID, same hash)")
    return 0
