"""The ingest worker as a process: SIGKILLed between insert and commit, its message comes back
from the broker's persistent session and is stored once; the next batch is checked while one
is stored, and neither is acknowledged before its commit; a backlog raises an alarm."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from central.alarms.service import AlarmService
from central.db.base import utcnow
from central.db.events_models import Alarm, Event
from central.db.migrate import upgrade
from central.db.models import Base
from central.ingest.config import IngestConfig
from central.ingest.pipeline import (
    PAUSE_BEFORE_COMMIT_ENV,
    BatchOutcome,
    CheckedBatch,
    IngestPipeline,
)
from central.ingest.validate import Incoming
from central.ingest.worker import IngestWorker
from central.registry.queries import device_info
from central.rules.config import RulesConfig
from edge.contract import AccessDecision
from tests.central.ingest.helpers import World, count_rows
from tests.central.ingest.mqtt_helpers import central_target, open_broker, publish_all, wait_until
from tests.support.services import PrivateMosquitto, fresh_postgres_database

DENIED = AccessDecision(gate_id="east", decision="denied", reason="no_match", method="face")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own: ``anju central ingest`` migrates it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.db'}"
        return
    with fresh_postgres_database() as url:
        yield url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """A database migrated as ``anju central`` migrates it, plus any table not yet migrated."""
    from central.db.session import make_engine

    engine = make_engine(db_url)
    upgrade(engine)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[PrivateMosquitto]:
    with open_broker(tmp_path / "broker") as running:
        yield running


def _config(tmp_path: Path, db_url: str, port: int) -> Path:
    central = {
        "database_url": db_url,
        "signing_key_file": str(tmp_path / "signing.key"),
        "at_rest_key_file": str(tmp_path / "at-rest.key"),
        "jwt_secret_file": str(tmp_path / "jwt.secret"),
        "mqtt": {"port": port, "client_id": "central-crash"},
        "ingest": {"batch_max_ms": 10},
    }
    path = tmp_path / "central.yaml"
    path.write_text(yaml.safe_dump({"central": central}))
    return path


class WorkerProcess:
    """``python -m central.ingest.cli ingest`` with its log in a file."""

    def __init__(self, config: Path, log: Path, pause_s: float = 0.0) -> None:
        self.log = log
        env = {**os.environ, PAUSE_BEFORE_COMMIT_ENV: str(pause_s)}
        command = [sys.executable, "-m", "central.ingest.cli", "ingest", "--config", str(config)]
        with log.open("w") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=output, env=env)

    def wait_for_log(self, text: str) -> None:
        """Poll the log until ``text`` appears (AssertionError after 30 s or an early exit)."""
        wait_until(
            lambda: text in self.log.read_text() or self.process.poll() is not None, 30, text
        )
        assert text in self.log.read_text(), self.log.read_text()


def test_killed_before_commit_redelivered_and_stored_once(
    world: World,
    sessions: sessionmaker[Session],
    db_url: str,
    broker: PrivateMosquitto,
    tmp_path: Path,
) -> None:
    config = _config(tmp_path, db_url, broker.port)
    first = WorkerProcess(config, tmp_path / "first.log", pause_s=60)
    first.wait_for_log("ingest subscribed")
    message = world.message("gate-e", DENIED)
    publish_all(broker.port, None, "gate-e", [message])
    first.wait_for_log("pausing before commit")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(10)
    assert count_rows(sessions, Event) == 0

    second = WorkerProcess(config, tmp_path / "second.log")
    try:
        second.wait_for_log("ingest subscribed")
        wait_until(lambda: count_rows(sessions, Event) == 1, 30, "the redelivered event")
        marker = world.message("gate-w", DENIED)
        publish_all(broker.port, None, "gate-e-again", [message, marker])
        wait_until(lambda: count_rows(sessions, Event) == 2, 30, "the marker event")
    finally:
        second.process.send_signal(signal.SIGTERM)
        assert second.process.wait(30) == 0
    assert count_rows(sessions, Event) == 2


class GatedPipeline(IngestPipeline):
    """Holds every store until ``release`` is set; records what it checked and stored."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        super().__init__(sessions, device_info)
        self.storing = threading.Event()
        self.release = threading.Event()
        self.checked: list[CheckedBatch] = []
        self.outcomes: list[BatchOutcome] = []

    def check(self, messages: Sequence[Incoming]) -> CheckedBatch:
        checked = super().check(messages)
        self.checked.append(checked)
        return checked

    def store(self, checked: CheckedBatch) -> BatchOutcome:
        self.storing.set()
        self.release.wait(60)
        outcome = super().store(checked)
        self.outcomes.append(outcome)
        return outcome


def test_next_batch_checked_during_a_store_and_acknowledged_only_after_commit(
    world: World, sessions: sessionmaker[Session], broker: PrivateMosquitto
) -> None:
    pipeline = GatedPipeline(sessions)
    worker = IngestWorker(
        central_target(broker.port, "central-overlap", secured=False),
        pipeline,
        IngestConfig(batch_max_ms=10),
    )
    worker.start()
    try:
        assert worker.subscribed.wait(10)
        publish_all(broker.port, None, "gate-e", [world.message("gate-e", DENIED)])
        assert pipeline.storing.wait(30)
        publish_all(broker.port, None, "gate-w", [world.message("gate-w", DENIED)])
        wait_until(lambda: len(pipeline.checked) == 2, 30, "the next batch checked meanwhile")
        broker.stop()
        pipeline.release.set()
        wait_until(lambda: count_rows(sessions, Event) == 2, 30, "both batches committed")
        broker.start()
        wait_until(
            lambda: sum(o.duplicates for o in pipeline.outcomes) == 2,
            60,
            "both events redelivered: neither was acknowledged before its commit",
        )
    finally:
        pipeline.release.set()
        worker.stop()
    assert count_rows(sessions, Event) == 2
    assert sum(len(o.stored) for o in pipeline.outcomes) == 2


def test_backlog_raises_alarm(
    world: World, sessions: sessionmaker[Session], broker: PrivateMosquitto
) -> None:
    alarms = AlarmService(sessions, RulesConfig())
    worker = IngestWorker(
        central_target(broker.port, "central-lagging", secured=False),
        IngestPipeline(sessions, device_info, [alarms.on_events]),
        IngestConfig(backlog_lag_s=60),
        on_backlog=alarms.on_backlog,
    )
    worker.start()
    try:
        assert worker.subscribed.wait(10)
        fresh = world.message("gate-e", DENIED, utcnow())
        stale = world.message("gate-w", DENIED, utcnow() - timedelta(hours=1))
        publish_all(broker.port, None, "gate-e", [fresh])
        wait_until(lambda: count_rows(sessions, Event) == 1, 30, "the fresh event")
        assert count_rows(sessions, Alarm, Alarm.type == "ingest_backlog") == 0
        publish_all(broker.port, None, "gate-w", [stale])
        wait_until(
            lambda: count_rows(sessions, Alarm, Alarm.type == "ingest_backlog") == 1,
            30,
            "the backlog alarm",
        )
    finally:
        worker.stop()


def test_worker_reconnects_after_broker_restart(
    world: World, sessions: sessionmaker[Session], broker: PrivateMosquitto
) -> None:
    worker = IngestWorker(
        central_target(broker.port, "central-restart", secured=False),
        IngestPipeline(sessions, device_info),
        IngestConfig(),
    )
    worker.start()
    try:
        assert worker.subscribed.wait(10)
        publish_all(broker.port, None, "gate-e", [world.message("gate-e", DENIED)])
        wait_until(lambda: count_rows(sessions, Event) == 1, 30, "the first event")
        broker.stop()
        broker.start()
        wait_until(worker.subscribed.is_set, 30, "the worker to subscribe again")
        publish_all(broker.port, None, "gate-e", [world.message("gate-e", DENIED)])
        wait_until(lambda: count_rows(sessions, Event) == 2, 30, "the second event")
    finally:
        worker.stop()
