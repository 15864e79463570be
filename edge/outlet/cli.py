"""``anju edge outlet --config FILE``: run an outlet node until interrupted."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from edge.node.cli import NodeCommand, add_node_command, create_key_files, new_token

if TYPE_CHECKING:
    from edge.outlet.config import OutletConfig


def register(group: Any) -> None:
    """Add the ``outlet`` command to the ``edge`` subcommand group."""
    add_node_command(group, "outlet", "run a courier-outlet inspection node", run_outlet)


def run_outlet(args: argparse.Namespace) -> int:
    """Validate the configuration, start the node, and run until SIGINT or SIGTERM."""
    from edge.contract import SignatureError
    from edge.outlet.app import OutletNode
    from edge.outlet.config import load_outlet_config
    from edge.outlet.detector import DetectorError

    errors = (OSError, ValueError, RuntimeError, DetectorError, SignatureError)
    return NodeCommand("outlet", load_outlet_config, init_keys, OutletNode, errors).run(args)


def init_keys(config: OutletConfig) -> int:
    """Create the device key, sender hash key and evidence token files if missing."""
    create_key_files(
        config.device.key_file,
        {config.sender.hash_key_file: new_token},
        config.evidence.server.token_file,
    )
    print("every outlet of one operator should share the sender hash key (same ID, same hash)")
    return 0
