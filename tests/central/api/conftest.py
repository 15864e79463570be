"""Fixtures for central's API tests: each module gets a migrated database per backend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from central.api.app import build_context, create_app
from central.core.secrets import load_secrets
from central.core.settings import CentralMqttConfig, CentralSettings
from central.db.migrate import upgrade
from central.db.session import make_engine, make_session_factory
from models.zoo import FaceEngineConfig
from tests.central.api.world import World, build_world
from tests.support.services import fresh_postgres_database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A new, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db')}/central.db"
        return
    with fresh_postgres_database() as url:
        yield url


@dataclass
class Central:
    """A central app over a migrated database, with a test client."""

    app: FastAPI
    client: TestClient
    sessions: sessionmaker[Session]
    settings: CentralSettings
    folder: Path


def make_settings(folder: Path, database_url: str, model_dir: Path) -> CentralSettings:
    """Settings with secrets and broker files in ``folder``."""
    return CentralSettings(
        database_url=database_url,
        signing_key_file=folder / "signing.key",
        at_rest_key_file=folder / "at-rest.key",
        jwt_secret_file=folder / "jwt.secret",
        mqtt=CentralMqttConfig(passwd_path=folder / "passwd", acl_path=folder / "acl"),
        face_engine=FaceEngineConfig(model_dir=model_dir),
        photo_dir=folder / "photos",
    )


@contextmanager
def running_central(folder: Path, database_url: str, model_dir: Path) -> Iterator[Central]:
    """The app over ``database_url``, migrated by Alembic, behind a test client."""
    settings = make_settings(folder, database_url, model_dir)
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = make_session_factory(engine, load_secrets(settings).at_rest_key)
    app = create_app(settings, build_context(settings, sessions=sessions))
    with TestClient(app) as client:
        yield Central(app, client, sessions, settings, folder)
    engine.dispose()


@pytest.fixture(scope="module")
def central(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, model_dir: Path
) -> Iterator[Central]:
    """The app, migrated, with nothing in it yet."""
    with running_central(tmp_path_factory.mktemp("central"), database_url, model_dir) as central:
        yield central


@pytest.fixture(scope="module")
def world(central: Central) -> World:
    """Two populated sides a and b, and users for every role on each."""
    return build_world(central.client, central.sessions, load_secrets(central.settings).jwt_secret)
