"""The ``anju`` command: one entry point whose subcommands come from each package."""

from __future__ import annotations

import argparse
import sys

from anju.logs import setup_logging
from central.cli import register as register_central
from edge.cli import register as register_edge
from models.cli import register as register_models
from models.errors import FaceEngineError, ModelError

EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(prog="anju", description=__doc__)
    parser.add_argument("--log-level", default="warning", help="debug, info, warning, error")
    parser.add_argument("--log-json", action="store_true", help="log records as JSON lines")
    commands = parser.add_subparsers(dest="command", required=True)
    register_models(commands)
    register_edge(commands)
    register_central(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level, args.log_json)
    try:
        status: int = args.handler(args)
    except (ModelError, FaceEngineError) as exc:
        print(f"anju: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
