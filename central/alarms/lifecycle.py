"""Raising alarms with de-duplication, and their lifecycle: active → acknowledged → cleared.

One open (not cleared) alarm exists per type and subject, enforced by a partial unique index,
so two workers raising the same alarm at once end with one alarm counted twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.db.base import utcnow
from central.db.events_models import ALARM_LEVELS, Alarm, AlarmComment
from central.rules.correlate import AlarmTrigger


class AlarmStateError(ValueError):
    """The requested change does not apply to the alarm in its current state."""


def open_alarm(session: Session, alarm_type: str, subject: str) -> Alarm | None:
    """The alarm of ``alarm_type`` about ``subject`` that is not cleared, if any."""
    return session.scalars(
        select(Alarm).where(
            Alarm.type == alarm_type, Alarm.subject == subject, Alarm.state != "cleared"
        )
    ).first()


def _repeat(alarm: Alarm, trigger: AlarmTrigger) -> None:
    alarm.count += 1
    alarm.last_seen = max(alarm.last_seen, trigger.at)
    alarm.detail = trigger.detail or alarm.detail
    alarm.params = trigger.params or alarm.params
    if ALARM_LEVELS.index(trigger.level) > ALARM_LEVELS.index(alarm.level):
        alarm.level = trigger.level


def raise_alarm(session: Session, trigger: AlarmTrigger) -> tuple[Alarm, bool]:
    """The open alarm for the trigger, updated, or a new one; and whether it is new."""
    existing = open_alarm(session, trigger.type, trigger.subject)
    if existing is not None:
        _repeat(existing, trigger)
        return existing, False
    alarm = Alarm(
        type=trigger.type,
        level=trigger.level,
        site_id=trigger.site_id,
        gate_id=trigger.gate_id,
        subject=trigger.subject,
        detail=trigger.detail,
        params=trigger.params,
        state="active",
        first_seen=trigger.at,
        last_seen=trigger.at,
        count=1,
    )
    try:
        with session.begin_nested():
            session.add(alarm)
    except IntegrityError:
        existing = open_alarm(session, trigger.type, trigger.subject)
        if existing is None:
            raise
        _repeat(existing, trigger)
        return existing, False
    return alarm, True


def _note(alarm: Alarm, author: str, text: str) -> None:
    alarm.comments.append(AlarmComment(author=author, text=text, created_at=utcnow()))


def acknowledge(alarm: Alarm, actor: str) -> None:
    """An operator has seen the alarm; repeats keep counting on it."""
    if alarm.state != "active":
        raise AlarmStateError(f"alarm {alarm.id} is {alarm.state}, not active")
    alarm.state = "acknowledged"
    _note(alarm, actor, "acknowledged")


def assign(alarm: Alarm, assignee: str | None, actor: str) -> None:
    """Give the alarm to ``assignee`` (None: nobody)."""
    if alarm.state == "cleared":
        raise AlarmStateError(f"alarm {alarm.id} is cleared")
    alarm.assignee = assignee
    _note(alarm, actor, f"assigned to {assignee}" if assignee else "unassigned")


def comment(alarm: Alarm, author: str, text: str) -> None:
    """Add a note (allowed in every state, for the record)."""
    _note(alarm, author, text)


def clear(alarm: Alarm, actor: str, reason: str = "") -> None:
    """Close the alarm; a later trigger opens a new one."""
    if alarm.state == "cleared":
        raise AlarmStateError(f"alarm {alarm.id} is already cleared")
    alarm.state = "cleared"
    _note(alarm, actor, f"cleared: {reason}" if reason else "cleared")


def alarm_item(alarm: Alarm) -> dict[str, Any]:
    """The alarm as the live feed carries it."""
    return {
        "id": alarm.id,
        "type": alarm.type,
        "level": alarm.level,
        "site_id": alarm.site_id,
        "gate_id": alarm.gate_id,
        "state": alarm.state,
        "count": alarm.count,
        "last_seen": alarm.last_seen.isoformat(),
        "detail": alarm.detail,
        "params": alarm.params,
    }
