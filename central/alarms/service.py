"""Runs the rules: after each ingest commit on the new events, periodically for offline devices
and overstaying visitors, and when a worker reports a backlog; raises alarms and feeds them live."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from central.alarms import facts
from central.alarms.lifecycle import alarm_item, raise_alarm
from central.core.periodic import Periodic
from central.db.base import utcnow
from central.ingest.ports import EventSink, PersonLookup
from central.ingest.worker import BacklogReport
from central.registry.queries import person_window
from central.rules import correlate
from central.rules.config import RulesConfig
from central.rules.correlate import AlarmTrigger, decision_of, is_unknown_face
from edge.contract import AccessDecision, Envelope

logger = logging.getLogger(__name__)


def _latest_per(
    events: Iterable[Envelope],
    wanted: Callable[[AccessDecision], bool],
    key: Callable[[Envelope], str],
) -> list[Envelope]:
    """The newest event matching ``wanted`` per ``key``: one count query per gate or site."""
    latest: dict[str, Envelope] = {}
    for envelope in events:
        decision = decision_of(envelope)
        if decision is not None and wanted(decision):
            current = latest.get(key(envelope))
            if current is None or envelope.occurred_at > current.occurred_at:
                latest[key(envelope)] = envelope
    return list(latest.values())


def _gate_key(envelope: Envelope) -> str:
    decision = decision_of(envelope)
    return f"{envelope.site_id}/{decision.gate_id if decision else ''}"


class AlarmService:
    """Evaluates the rules and stores what they raise."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        rules: RulesConfig,
        sink: EventSink | None = None,
        person_lookup: PersonLookup = person_window,
    ) -> None:
        self._sessions = sessions
        self._rules = rules
        self._sink = sink
        self._person_lookup = person_lookup
        self._checks = Periodic("alarm-checks", rules.check_interval_s, self.run_checks)

    def on_events(self, events: Sequence[Envelope]) -> list[int]:
        """Run the event rules on newly stored events; returns the ids of alarms raised."""
        with self._sessions() as session, session.begin():
            triggers = [
                *self._unknown_faces(session, events),
                *self._denial_bursts(session, events),
                *self._stale_grants(session, events),
            ]
            items = self._raise(session, triggers)
        return self._announce(items)

    def _unknown_faces(
        self, session: Session, events: Sequence[Envelope]
    ) -> list[AlarmTrigger | None]:
        rule = self._rules.unknown_face
        if not rule.enabled:
            return []
        triggers = []
        for envelope in _latest_per(events, is_unknown_face, _gate_key):
            gate = decision_of(envelope)
            attempts = facts.count_events(
                session,
                facts.UNKNOWN_FACE,
                envelope.site_id,
                envelope.occurred_at,
                rule.window_s,
                gate.gate_id if gate else None,
            )
            triggers.append(correlate.unknown_face(envelope, attempts, rule))
        return triggers

    def _denial_bursts(
        self, session: Session, events: Sequence[Envelope]
    ) -> list[AlarmTrigger | None]:
        rule = self._rules.denial_burst
        if not rule.enabled:
            return []
        latest = _latest_per(events, lambda d: d.decision == "denied", lambda e: e.site_id)
        return [
            correlate.denial_burst(
                envelope,
                facts.count_events(
                    session, facts.DENIED, envelope.site_id, envelope.occurred_at, rule.window_s
                ),
                rule,
            )
            for envelope in latest
        ]

    def _stale_grants(
        self, session: Session, events: Sequence[Envelope]
    ) -> list[AlarmTrigger | None]:
        rule = self._rules.stale_grant
        triggers = []
        for envelope in events:
            decision = decision_of(envelope)
            if rule.enabled and decision and decision.decision == "granted" and decision.person_id:
                person = self._person_lookup(session, decision.person_id)
                triggers.append(correlate.stale_grant(envelope, person, rule))
        return triggers

    def on_backlog(self, report: BacklogReport) -> None:
        """An ingest worker fell behind."""
        trigger = correlate.ingest_backlog(
            report.worker_id, report.waiting, report.lag_s, utcnow(), self._rules.ingest_backlog
        )
        with self._sessions() as session, session.begin():
            items = self._raise(session, [trigger])
        self._announce(items)

    def run_checks(self, now: datetime | None = None) -> list[int]:
        """The periodic rules (offline devices, overstaying visitors); returns alarm ids."""
        now = now or utcnow()
        overstay = self._rules.visitor_overstay
        with self._sessions() as session, session.begin():
            triggers = [
                correlate.device_offline(device, now, self._rules.device_offline)
                for device in facts.devices(session)
            ]
            if overstay.enabled:
                since = now - timedelta(seconds=overstay.lookback_s)
                triggers += [
                    correlate.visitor_overstay(visit, now, overstay)
                    for visit in facts.visits(session, since, self._person_lookup)
                ]
            items = self._raise(session, triggers)
        return self._announce(items)

    def _raise(
        self, session: Session, triggers: Sequence[AlarmTrigger | None]
    ) -> list[dict[str, Any]]:
        raised = [raise_alarm(session, t) for t in triggers if t is not None]
        session.flush()
        for alarm, new in raised:
            logger.info(
                "alarm raised type=%s subject=%s id=%s new=%s count=%d",
                alarm.type,
                alarm.subject,
                alarm.id,
                new,
                alarm.count,
            )
        return [alarm_item(alarm) for alarm, _ in raised]

    def _announce(self, items: list[dict[str, Any]]) -> list[int]:
        """After commit: hand the alarms to the live feed; their ids."""
        if self._sink is not None:
            for item in items:
                self._sink.publish("alarm", item)
        return [int(item["id"]) for item in items]

    def start(self) -> None:
        """Run the periodic checks every ``check_interval_s`` in a thread."""
        self._checks.start()

    def stop(self) -> None:
        """Stop the periodic checks."""
        self._checks.stop()
