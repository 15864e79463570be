"""Engines and sessions; the at-rest key travels in ``Session.info`` to the code that seals."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

AT_REST_KEY = "anju.at_rest_key"


class MissingKeyError(RuntimeError):
    """A session made without the at-rest key was asked to seal or open a secret."""


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (``postgresql://`` means psycopg 3); SQLite gets foreign keys on."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def make_session_factory(engine: Engine, at_rest_key: bytes | None = None) -> sessionmaker[Session]:
    """Sessions on ``engine``; pass ``at_rest_key`` where templates or gallery keys are opened."""
    info = {AT_REST_KEY: at_rest_key} if at_rest_key is not None else {}
    return sessionmaker(engine, expire_on_commit=False, info=info)


def at_rest_key(session: Session) -> bytes:
    """The at-rest key the session was made with."""
    key = session.info.get(AT_REST_KEY)
    if not isinstance(key, bytes):
        raise MissingKeyError("session factory made without at_rest_key (make_session_factory)")
    return key
