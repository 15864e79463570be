"""Fixtures for ingest, rules, alarms and gallery tests: a database on SQLite and PostgreSQL
with every central table, and a small registered world in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from central.db.models import Base
from central.db.session import make_engine, make_session_factory
from tests.central.ingest.helpers import AT_REST_KEY, World, build_world, empty_tables
from tests.support.services import fresh_postgres_database


@pytest.fixture(scope="session")
def shared_postgres() -> Iterator[str]:
    """One PostgreSQL database with every table, emptied before each test that uses it."""
    with fresh_postgres_database() as url:
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'central.db'}"
    url: str = request.getfixturevalue("shared_postgres")
    empty_tables(url)
    return url


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """An engine with every central table created."""
    engine = make_engine(db_url)
    if engine.dialect.name == "sqlite":
        Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(db_engine: Engine) -> sessionmaker[Session]:
    """Sessions that can open sealed secrets."""
    return make_session_factory(db_engine, AT_REST_KEY)


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    """The registered world."""
    return build_world(sessions)
