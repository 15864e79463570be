"""Fixtures for the parcel tests: a migrated database per backend with the ingest tests' small
world plus two outlets, and a central app with the API tests' two-sided world."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from central.core.secrets import load_secrets
from central.db.migrate import upgrade
from central.db.models import Base
from central.db.registry_models import Outlet
from central.db.session import make_engine, make_session_factory
from tests.central.api.conftest import Central, running_central
from tests.central.api.world import World as ApiWorld
from tests.central.api.world import build_world as build_api_world
from tests.central.ingest.helpers import AT_REST_KEY, World, build_world, empty_tables
from tests.central.parcels.helpers import add_outlet_device
from tests.support.services import fresh_postgres_database


@pytest.fixture(scope="session")
def parcels_postgres() -> Iterator[str]:
    """One PostgreSQL database migrated by Alembic, emptied before each test that uses it."""
    with fresh_postgres_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'central.db'}")
        Base.metadata.create_all(engine)
    else:
        url: str = request.getfixturevalue("parcels_postgres")
        empty_tables(url)
        engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(db_engine: Engine) -> sessionmaker[Session]:
    """Sessions over the test database."""
    return make_session_factory(db_engine, AT_REST_KEY)


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    """The ingest world, outlets ``outlet-1`` (device ``outlet-d``) and ``outlet-2``
    (device ``outlet-d2``)."""
    world = build_world(sessions)
    with sessions() as session, session.begin():
        session.add_all(
            Outlet(id=outlet_id, name=outlet_id, community_id="n1")
            for outlet_id in ("outlet-1", "outlet-2")
        )
    add_outlet_device(sessions, world, "outlet-d2", "outlet-2")
    return world


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def central(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, model_dir: Path
) -> Iterator[Central]:
    """The app over an Alembic-migrated database on each backend."""
    folder = tmp_path_factory.mktemp("central")
    pg = request.param == "postgresql"
    sqlite_url = f"sqlite:///{folder}/central.db"
    with (
        fresh_postgres_database() if pg else nullcontext(None) as url,
        running_central(folder, url or sqlite_url, model_dir) as app,
    ):
        yield app


@pytest.fixture(scope="module")
def api_world(central: Central) -> ApiWorld:
    """Sides a and b (each with an outlet and a booked parcel) and users of every role."""
    secret = load_secrets(central.settings).jwt_secret
    return build_api_world(central.client, central.sessions, secret)
