"""Shared fixtures of the fault tests: a fresh PostgreSQL database and the fault stack over it
(private Mosquitto with central's generated policy, provisioned devices), with or without a
running ingest worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.faults.stack import Stack, fault_stack
from tests.support.services import fresh_postgres_database

DEVICES = 3


@pytest.fixture
def fault_database() -> Iterator[str]:
    """The URL of a new PostgreSQL database (psycopg), dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def stack(tmp_path: Path, fault_database: str) -> Iterator[Stack]:
    """A started broker and ``DEVICES`` provisioned devices; no ingest worker yet."""
    with fault_stack(tmp_path / "run", fault_database, DEVICES) as running:
        yield running


@pytest.fixture
def ingesting_stack(stack: Stack) -> Stack:
    """``stack`` with one ingest worker process subscribed."""
    stack.start_ingest()
    return stack
