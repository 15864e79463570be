"""After each ingest commit: parcel records from new ``parcel.inspection`` events, the outlet
alarms they trigger, and an alarm per unregistered device whose messages were refused."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from prometheus_client import Counter
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from central.alarms.lifecycle import alarm_item, raise_alarm
from central.db.base import utcnow
from central.db.parcel_models import Parcel, Waybill
from central.ingest.ports import EventSink
from central.ingest.validate import Rejected
from central.parcels.config import ParcelRulesConfig
from central.parcels.rates import daily_rates, local_day
from central.parcels.records import InspectionRefused, apply_inspection, outlets_of
from central.rules import parcels as rules
from central.rules.correlate import AlarmTrigger
from edge.contract import Envelope, ParcelInspection

logger = logging.getLogger(__name__)
REFUSED = Counter(
    "anju_parcel_inspections_refused_total", "Stored inspection events the registries refused."
)


class ParcelIngest:
    """The after-commit and after-reject hooks of the ingest pipeline for outlets."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: ParcelRulesConfig,
        sink: EventSink | None = None,
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._sink = sink

    def on_events(self, events: Sequence[Envelope]) -> list[int]:
        """Apply new inspection events to the registries; returns the ids of alarms raised."""
        inspections = sorted(
            (e for e in events if isinstance(e.payload, ParcelInspection)),
            key=lambda e: e.occurred_at,
        )
        if not inspections:
            return []
        with self._sessions() as session, session.begin():
            triggers: list[AlarmTrigger | None] = []
            days: dict[tuple[str, date], datetime] = {}
            for envelope in inspections:
                applied = _apply(session, envelope)
                if applied is None:
                    continue
                parcel, bill = applied
                triggers += self._parcel_rules(session, parcel, bill, envelope.occurred_at)
                day = local_day(parcel.started_at, self._config.zone)
                days[(parcel.outlet_id, day)] = envelope.occurred_at
            for (outlet_id, day), at in days.items():
                rates = daily_rates(session, outlet_id, day, self._config.zone)
                triggers.append(
                    rules.outlet_below_target(rates, at, self._config.outlet_below_target)
                )
            items = _raise(session, triggers)
        return self._announce(items)

    def _parcel_rules(
        self, session: Session, parcel: Parcel, bill: Waybill | None, at: datetime
    ) -> list[AlarmTrigger | None]:
        facts = rules.ParcelFacts(
            parcel.id, parcel.outlet_id, bill.number if bill else None, tuple(parcel.flags), at
        )
        triggers = [rules.noncompliant_parcel(facts, self._config)]
        if bill is not None:
            outlets = outlets_of(session, bill.id)
            rule = self._config.waybill_two_outlets
            triggers.append(rules.waybill_two_outlets(bill.number, outlets, at, rule))
        return triggers

    def on_rejected(self, rejected: Sequence[Rejected]) -> list[int]:
        """Raise (or repeat) one alarm per unregistered device among refused messages."""
        unknown = {r.device_id: r for r in rejected if r.reason == "unknown_device" and r.device_id}
        if not unknown:
            return []
        now = utcnow()
        rule = self._config.unknown_device
        with self._sessions() as session, session.begin():
            items = _raise(
                session,
                [
                    rules.unknown_device(device_id, f"{r.detail} (topic {r.topic})", now, rule)
                    for device_id, r in unknown.items()
                ],
            )
        return self._announce(items)

    def _announce(self, items: list[dict[str, Any]]) -> list[int]:
        if self._sink is not None:
            for item in items:
                self._sink.publish("alarm", item)
        return [int(item["id"]) for item in items]


def _apply(session: Session, envelope: Envelope) -> tuple[Parcel, Waybill | None] | None:
    """The event applied in a savepoint; None (counted and logged) if it cannot be, or if a
    newer inspection of the parcel was applied before."""
    try:
        with session.begin_nested():
            parcel, bill = apply_inspection(session, envelope)
    except (InspectionRefused, SQLAlchemyError) as exc:
        REFUSED.inc()
        logger.warning(
            "parcel inspection refused event=%s device=%s reason=%s",
            envelope.event_id,
            envelope.device_id,
            str(exc).splitlines()[0][:200],
        )
        return None
    if parcel.last_event_id != envelope.event_id:
        logger.info("parcel inspection superseded event=%s parcel=%s", envelope.event_id, parcel.id)
        return None
    logger.info(
        "parcel inspected parcel=%s outlet=%s flags=%s",
        parcel.id,
        parcel.outlet_id,
        ",".join(parcel.flags) or "-",
    )
    return parcel, bill


def _raise(session: Session, triggers: Sequence[AlarmTrigger | None]) -> list[dict[str, Any]]:
    raised = [raise_alarm(session, t) for t in triggers if t is not None]
    session.flush()
    for alarm, new in raised:
        logger.info(
            "alarm raised type=%s subject=%s id=%s new=%s", alarm.type, alarm.subject, alarm.id, new
        )
    return [alarm_item(alarm) for alarm, _ in raised]
