"""``python -m scripts.faults [--log-level L] <scenario> [options]``: run one fault scenario; it
prints its per-device table and exits 1 unless nothing was lost or duplicated.

A scenario module offers ``main(argv) -> int``, or ``add_arguments(parser)`` with
``run_cli(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

SCENARIOS = (
    "broker_outage",
    "edge_kill",
    "central_kill",
    "reconnect_storm",
    "full_disk",
    "scaleout",
)


def scenario_module(name: str) -> ModuleType | None:
    """The scenario's module, or None while it does not exist."""
    try:
        return importlib.import_module(f"scripts.faults.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"scripts.faults.{name}":
            raise
        return None


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the chosen scenario with the remaining arguments."""
    from anju.logs import setup_logging

    parser = argparse.ArgumentParser(prog="python -m scripts.faults", description=__doc__)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("scenario", choices=[n for n in SCENARIOS if scenario_module(n)])
    parser.add_argument("options", nargs=argparse.REMAINDER, help="the scenario's own (--help)")
    args = parser.parse_args(argv)
    setup_logging(args.log_level, False)
    module = scenario_module(args.scenario)
    assert module is not None
    if hasattr(module, "main"):
        return int(module.main(args.options))
    own = argparse.ArgumentParser(prog=f"python -m scripts.faults {args.scenario}")
    module.add_arguments(own)
    return int(module.run_cli(own.parse_args(args.options)))


if __name__ == "__main__":
    sys.exit(main())
