"""One batch from bytes to committed rows: check each message, store, commit, then notify."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from central.ingest import metrics
from central.ingest.ports import DeviceLookup, DeviceRecord
from central.ingest.store import apply_device_state, store_events, store_rejections
from central.ingest.validate import Accepted, Incoming, Rejected, check_messages, is_event_topic
from edge.contract import Envelope

logger = logging.getLogger(__name__)

PAUSE_BEFORE_COMMIT_ENV = "ANJU_INGEST_TEST_PAUSE_BEFORE_COMMIT_S"
"""Test hook: seconds to sleep after inserting and before committing (crash-safety tests)."""

AfterCommit = Callable[[list[Envelope]], object]
AfterReject = Callable[[list[Rejected]], object]


@dataclass
class CheckedBatch:
    """A batch after every check: the messages accepted and refused, and how many were not
    events at all."""

    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    ignored: int = 0


@dataclass
class BatchOutcome:
    """What one committed batch did."""

    stored: list[Envelope] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    ignored: int = 0


class IngestPipeline:
    """Checks batches (``check``), then stores each in one transaction (``store``); after the
    commit, ``after_commit`` hooks see the newly stored events and ``after_reject`` hooks the
    refused messages."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        device_lookup: DeviceLookup,
        after_commit: Sequence[AfterCommit] = (),
        after_reject: Sequence[AfterReject] = (),
    ) -> None:
        self._sessions = sessions
        self._device_lookup = device_lookup
        self._after_commit = list(after_commit)
        self._after_reject = list(after_reject)

    def process(self, messages: Sequence[Incoming]) -> BatchOutcome:
        """Check and store ``messages``; raises only if the database fails (nothing committed)."""
        return self.store(self.check(messages))

    def check(self, messages: Sequence[Incoming]) -> CheckedBatch:
        """Every check of each message: schema, topic, registered device and signature (the
        devices are read in a transaction of their own); raises only if the database fails."""
        events = [m for m in messages if is_event_topic(m.topic)]
        checked = CheckedBatch(ignored=len(messages) - len(events))
        with self._sessions() as session:
            devices: dict[str, DeviceRecord | None] = {}

            def lookup(device_id: str) -> DeviceRecord | None:
                if device_id not in devices:
                    devices[device_id] = self._device_lookup(session, device_id)
                return devices[device_id]

            for result in check_messages(events, lookup):
                if isinstance(result, Accepted):
                    checked.accepted.append(result)
                else:
                    checked.rejected.append(result)
        return checked

    def store(self, checked: CheckedBatch) -> BatchOutcome:
        """Store a checked batch in one transaction (events once by id, rejections, device
        state), then run the hooks; raises only if the database fails (nothing committed)."""
        outcome = BatchOutcome(rejected=checked.rejected, ignored=checked.ignored)
        with self._sessions() as session:
            with metrics.stage("insert"):
                outcome.stored = store_events(session, checked.accepted)
                outcome.duplicates = len(checked.accepted) - len(outcome.stored)
                store_rejections(session, outcome.rejected)
                apply_device_state(session, outcome.stored)
                session.flush()
            _test_pause()
            with metrics.stage("commit"):
                session.commit()
        self._count(outcome)
        with metrics.stage("rules"):
            self._notify(self._after_commit, outcome.stored)
            self._notify(self._after_reject, outcome.rejected)
        return outcome

    def _count(self, outcome: BatchOutcome) -> None:
        metrics.BATCHES.inc()
        metrics.STORED.inc(len(outcome.stored))
        metrics.DUPLICATES.inc(outcome.duplicates)
        metrics.IGNORED.inc(outcome.ignored)
        for rejection in outcome.rejected:
            metrics.REJECTED.labels(reason=rejection.reason).inc()
            logger.info(
                "ingest rejected reason=%s device=%s topic=%s detail=%s",
                rejection.reason,
                rejection.device_id,
                rejection.topic,
                rejection.detail,
            )

    @staticmethod
    def _notify(hooks: Sequence[Callable[[list[Any]], object]], items: list[Any]) -> None:
        if not items:
            return
        for callback in hooks:
            try:
                callback(items)
            except Exception:
                logger.exception("ingest after-commit hook failed hook=%r", callback)


def _test_pause() -> None:
    pause_s = float(os.environ.get(PAUSE_BEFORE_COMMIT_ENV, "0") or 0)
    if pause_s > 0:
        logger.warning("ingest pausing before commit seconds=%s (test hook)", pause_s)
        time.sleep(pause_s)
