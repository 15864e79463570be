"""``anju edge gate --config FILE``: run a gate node until interrupted."""

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
    from edge.gate.config import GateConfig

log = logging.getLogger(__name__)

EXIT_ERROR = 2


def register(group: Any) -> None:
    """Add the ``gate`` command to the ``edge`` subcommand group."""
    parser = group.add_parser("gate", help="run a gate node (face, QR, card, PIN, guard)")
    parser.add_argument("--config", type=Path, required=True, help="gate YAML configuration")
    parser.add_argument("--check", action="store_true", help="validate the configuration, exit")
    parser.add_argument(
        "--init-keys",
        action="store_true",
        help="create the missing key and token files the configuration names, then exit",
    )
    parser.set_defaults(handler=run_gate)


def run_gate(args: argparse.Namespace) -> int:
    """Validate the configuration, start the node, and run until SIGINT or SIGTERM."""
    from edge.contract import SignatureError
    from edge.gallery.messages import GalleryError
    from edge.gate.app import GateNode
    from edge.gate.config import load_gate_config

    config = load_gate_config(args.config)
    if args.init_keys:
        return init_keys(config)
    if args.check:
        print(f"{args.config}: valid gate configuration for {config.device.device_id}")
        return 0
    try:
        node = GateNode(config)
    except (OSError, ValueError, GalleryError, SignatureError) as exc:
        print(f"anju: error: cannot start the gate node: {exc}", file=sys.stderr)
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


def init_keys(config: GateConfig) -> int:
    """Create the device key, at-rest key, gallery key and evidence token files if missing."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from edge.contract import KEY_BYTES, load_private_key, private_key_text, public_key_text
    from edge.contract.signing import b64url

    wanted: dict[Path, Callable[[], str]] = {
        config.device.key_file: lambda: private_key_text(Ed25519PrivateKey.generate()),
        config.gallery.at_rest_key_file: lambda: b64url(secrets.token_bytes(KEY_BYTES)),
        config.gallery.gallery_key_file: lambda: b64url(secrets.token_bytes(KEY_BYTES)),
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
    print("the gallery key must be the compound's key from central; replace it when provisioned")
    return 0
