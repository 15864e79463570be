"""``anju edge gate --config FILE``: run a gate node until interrupted."""

from __future__ import annotations

import argparse
import secrets
from typing import TYPE_CHECKING, Any

from edge.node.cli import NodeCommand, add_node_command, create_key_files

if TYPE_CHECKING:
    from edge.gate.config import GateConfig


def register(group: Any) -> None:
    """Add the ``gate`` command to the ``edge`` subcommand group."""
    add_node_command(group, "gate", "run a gate node (face, QR, card, PIN, guard)", run_gate)


def run_gate(args: argparse.Namespace) -> int:
    """Validate the configuration, start the node, and run until SIGINT or SIGTERM."""
    from edge.contract import SignatureError
    from edge.gallery.messages import GalleryError
    from edge.gate.app import GateNode
    from edge.gate.config import load_gate_config

    errors = (OSError, ValueError, GalleryError, SignatureError)
    return NodeCommand("gate", load_gate_config, init_keys, GateNode, errors).run(args)


def init_keys(config: GateConfig) -> int:
    """Create the device key, at-rest key, gallery key and evidence token files if missing."""
    from edge.contract import KEY_BYTES
    from edge.contract.signing import b64url

    def new_key() -> str:
        return b64url(secrets.token_bytes(KEY_BYTES))

    create_key_files(
        config.device.key_file,
        {config.gallery.at_rest_key_file: new_key, config.gallery.gallery_key_file: new_key},
        config.evidence.server.token_file,
    )
    print("the gallery key must be the compound's key from central; replace it when provisioned")
    return 0
