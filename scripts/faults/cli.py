"""Options every scenario's command line shares, and the stack they describe."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.faults.stack import Stack, fault_stack
from tests.support.services import fresh_postgres_database


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """``--folder``, ``--database-url`` and ``--sqlite``."""
    parser.add_argument(
        "--folder", type=Path, default=None, help="run folder (default: a new temporary one)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--database-url", default=None, help="central's database (default: a fresh PostgreSQL one)"
    )
    where.add_argument("--sqlite", action="store_true", help="a SQLite file in the run folder")


@contextmanager
def open_stack(args: argparse.Namespace, devices: int) -> Iterator[Stack]:
    """The stack the options describe, with ``devices`` provisioned devices."""
    folder: Path = args.folder or Path(tempfile.mkdtemp(prefix="anju-faults-"))
    folder.mkdir(parents=True, exist_ok=True)
    if args.database_url or args.sqlite:
        url = args.database_url or f"sqlite:///{folder.resolve() / 'central.db'}"
        with fault_stack(folder, url, devices) as stack:
            yield stack
        return
    with fresh_postgres_database() as url, fault_stack(folder, url, devices) as stack:
        yield stack
