"""The correlation rules as pure functions: an event or a device's or visit's state, the facts
counted around it, and the rule's settings in; an alarm trigger or None out.

A trigger's ``detail`` is an English sentence (logs, API clients that predate ``params``);
``params`` holds the same facts by name, so the dashboard words them in its own language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from central.ingest.ports import PersonRecord
from central.rules.config import (
    DenialBurstRule,
    DeviceOfflineRule,
    IngestBacklogRule,
    StaleGrantRule,
    UnknownFaceRule,
    VisitorOverstayRule,
)
from edge.contract import AccessDecision, Envelope

AlarmParam = str | int | float | bool
"""One value of an alarm's parameters: times as ISO 8601 text, durations in seconds."""
OutsideWindow = Literal["not_registered", "inactive", "window_ended", "window_not_started"]


@dataclass(frozen=True)
class AlarmTrigger:
    """A rule fired: repeats with the same ``type`` and ``subject`` update one open alarm."""

    type: str
    level: str
    site_id: str | None
    subject: str
    at: datetime
    detail: str = ""
    gate_id: str | None = None
    params: dict[str, AlarmParam] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceFacts:
    """What central last heard from a device."""

    device_id: str
    site_id: str
    last_heartbeat: datetime | None
    last_seen: datetime
    online: bool


@dataclass(frozen=True)
class VisitFacts:
    """A visitor's latest grant and admission window."""

    visitor_id: str
    site_id: str
    last_gate_id: str
    last_granted_at: datetime
    valid_until: datetime | None


def decision_of(envelope: Envelope) -> AccessDecision | None:
    """The access decision an envelope carries, if any."""
    return envelope.payload if isinstance(envelope.payload, AccessDecision) else None


def is_unknown_face(decision: AccessDecision) -> bool:
    """An unknown face: decided ``unknown``, or a face denial naming nobody."""
    return decision.decision == "unknown" or (
        decision.method == "face" and decision.decision == "denied" and decision.person_id is None
    )


def unknown_face(envelope: Envelope, attempts: int, rule: UnknownFaceRule) -> AlarmTrigger | None:
    """``attempts``: unknown-face decisions at the event's gate within the window, this one too."""
    decision = decision_of(envelope)
    if not rule.enabled or decision is None or not is_unknown_face(decision):
        return None
    if attempts < rule.attempts:
        return None
    return AlarmTrigger(
        "unknown_face",
        rule.level,
        envelope.site_id,
        f"{envelope.site_id}/{decision.gate_id}",
        envelope.occurred_at,
        f"{attempts} unknown faces within {rule.window_s:g} s",
        decision.gate_id,
        {"gate_id": decision.gate_id, "attempts": attempts, "window_s": rule.window_s},
    )


def denial_burst(envelope: Envelope, denials: int, rule: DenialBurstRule) -> AlarmTrigger | None:
    """``denials``: denied decisions at the event's site within the window, this one too."""
    decision = decision_of(envelope)
    if not rule.enabled or decision is None or decision.decision != "denied":
        return None
    if denials < rule.denials:
        return None
    return AlarmTrigger(
        "denial_burst",
        rule.level,
        envelope.site_id,
        envelope.site_id,
        envelope.occurred_at,
        f"{denials} denials within {rule.window_s:g} s",
        params={"denials": denials, "window_s": rule.window_s},
    )


_WHY: dict[OutsideWindow, str] = {
    "not_registered": "person is not registered",
    "inactive": "person moved out, was revoked or deleted",
    "window_ended": "window ended",
    "window_not_started": "window starts",
}


def _outside_window(
    person: PersonRecord | None, at: datetime, grace: timedelta
) -> tuple[OutsideWindow, datetime | None] | None:
    """Why ``at`` lies outside the person's window, and the window's edge it passed."""
    if person is None:
        return "not_registered", None
    if not person.active:
        return "inactive", None
    if person.valid_until is not None and at > person.valid_until + grace:
        return "window_ended", person.valid_until
    if person.valid_from is not None and at < person.valid_from - grace:
        return "window_not_started", person.valid_from
    return None


def stale_grant(
    envelope: Envelope, person: PersonRecord | None, rule: StaleGrantRule
) -> AlarmTrigger | None:
    """A grant to a person outside their window: the gate's gallery is stale."""
    decision = decision_of(envelope)
    if not rule.enabled or decision is None or decision.decision != "granted":
        return None
    if decision.person_id is None:
        return None
    outside = _outside_window(person, envelope.occurred_at, timedelta(seconds=rule.grace_s))
    if outside is None:
        return None
    reason, edge = outside
    params: dict[str, AlarmParam] = {
        "person_id": decision.person_id,
        "gate_id": decision.gate_id,
        "method": decision.method,
        "reason": reason,
    }
    why = _WHY[reason]
    if edge is not None:
        params["edge"] = edge.isoformat()
        why = f"{why} {edge.isoformat()}"
    return AlarmTrigger(
        "stale_grant",
        rule.level,
        envelope.site_id,
        f"{envelope.site_id}/{decision.person_id}",
        envelope.occurred_at,
        f"{decision.person_id} admitted at {decision.gate_id} by {decision.method}: {why}",
        decision.gate_id,
        params,
    )


def device_offline(
    device: DeviceFacts, now: datetime, rule: DeviceOfflineRule
) -> AlarmTrigger | None:
    """A device that said it went offline, or missed ``missed_heartbeats`` heartbeats."""
    if not rule.enabled:
        return None
    silent_s = (now - (device.last_heartbeat or device.last_seen)).total_seconds()
    allowed_s = rule.heartbeat_interval_s * rule.missed_heartbeats
    if device.online and silent_s <= allowed_s:
        return None
    return AlarmTrigger(
        "device_offline",
        rule.level,
        device.site_id,
        device.device_id,
        now,
        f"{device.device_id} silent for {silent_s:.0f} s" + ("" if device.online else ", offline"),
        params={
            "device_id": device.device_id,
            "silent_s": round(silent_s),
            "online": device.online,
        },
    )


def visitor_overstay(
    visit: VisitFacts, now: datetime, rule: VisitorOverstayRule
) -> AlarmTrigger | None:
    """A visitor whose last grant was at an entry gate and whose window ended ``grace_s`` ago."""
    if not rule.enabled or visit.valid_until is None or visit.last_gate_id in rule.exit_gate_ids:
        return None
    if visit.last_granted_at > visit.valid_until:
        return None
    if now <= visit.valid_until + timedelta(seconds=rule.grace_s):
        return None
    return AlarmTrigger(
        "visitor_overstay",
        rule.level,
        visit.site_id,
        f"{visit.site_id}/{visit.visitor_id}",
        now,
        f"{visit.visitor_id} entered at {visit.last_gate_id}, window ended "
        f"{visit.valid_until.isoformat()}, no exit seen",
        visit.last_gate_id,
        {
            "visitor_id": visit.visitor_id,
            "gate_id": visit.last_gate_id,
            "valid_until": visit.valid_until.isoformat(),
        },
    )


def ingest_backlog(
    worker_id: str, waiting: int, lag_s: float, now: datetime, rule: IngestBacklogRule
) -> AlarmTrigger | None:
    """An ingest worker fell behind (the worker decides when; this names the alarm)."""
    if not rule.enabled:
        return None
    return AlarmTrigger(
        "ingest_backlog",
        rule.level,
        None,
        f"ingest/{worker_id}",
        now,
        f"{waiting} messages waiting, freshest event {lag_s:.0f} s old",
        params={"worker_id": worker_id, "waiting": waiting, "lag_s": round(lag_s)},
    )
