"""The ``anju edge`` command group: the edge nodes."""

from __future__ import annotations

from typing import Any

from edge.gate.cli import register as register_gate
from edge.outlet.cli import register as register_outlet


def register(commands: Any) -> None:
    """Add ``edge`` and its node commands to the top-level subcommands."""
    parser = commands.add_parser("edge", help="run an edge node")
    group = parser.add_subparsers(dest="edge_command", required=True)
    register_gate(group)
    register_outlet(group)
