"""Alarms: list with filters, read, acknowledge, assign, comment, clear — all within scope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, or_, select

from central.alarms import lifecycle
from central.api.deps import CurrentUser, SessionDep, Writer
from central.db.events_models import Alarm
from central.rules.correlate import AlarmParam
from central.security.scopes import Principal, user_can_see

router = APIRouter(prefix="/api/alarms", tags=["alarms"])
Level = Literal["info", "warning", "critical"]
State = Literal["active", "acknowledged", "cleared"]
MAX_ID = 2**31 - 1


class CommentPublic(BaseModel):
    """A note on an alarm."""

    model_config = ConfigDict(from_attributes=True)

    author: str
    text: str
    created_at: datetime


class AlarmPublic(BaseModel):
    """An alarm with its history."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    type: str
    level: str
    site_id: str | None
    gate_id: str | None
    subject: str
    detail: str = Field(description="English text; the dashboard words ``type`` and ``params``.")
    params: dict[str, AlarmParam] = Field(description="The detail's facts by name.")
    state: str
    assignee: str | None
    first_seen: datetime
    last_seen: datetime
    count: int
    comments: list[CommentPublic]


class AssignBody(BaseModel):
    """Who handles the alarm (null: nobody)."""

    model_config = ConfigDict(extra="forbid")

    assignee: str | None = Field(default=None, max_length=64)


class CommentBody(BaseModel):
    """A note."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000)


class ClearBody(BaseModel):
    """Why the alarm is closed."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=2000)


def can_see_alarm(user: Principal, alarm: Alarm) -> bool:
    """Site alarms by the user's scope; central's own alarms (no site) by admins only."""
    return user_can_see(user, alarm.site_id) if alarm.site_id else user.role == "admin"


def load_alarm(
    alarm_id: Annotated[int, Path(ge=1, le=MAX_ID)], user: CurrentUser, session: SessionDep
) -> Alarm:
    """The alarm; 404 if missing or outside the user's scope."""
    alarm = session.get(Alarm, alarm_id)
    if alarm is None or not can_see_alarm(user, alarm):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "alarm not found")
    return alarm


AlarmDep = Annotated[Alarm, Depends(load_alarm)]


class AlarmFilter(BaseModel):
    """Query parameters of the alarm list; unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid")

    level: Level | None = None
    type: str | None = Field(default=None, max_length=32)
    site_id: str | None = Field(default=None, max_length=64)
    state: State | None = None
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


@router.get("")
def list_alarms(
    user: CurrentUser, session: SessionDep, query: Annotated[AlarmFilter, Query()]
) -> list[AlarmPublic]:
    """Alarms in the user's scope, newest activity first."""
    visible: ColumnElement[bool] = Alarm.site_id.in_(sorted(user.sites))
    if user.role == "admin":
        visible = or_(visible, Alarm.site_id.is_(None))
    statement = select(Alarm).where(visible)
    filters = {
        Alarm.level: query.level,
        Alarm.type: query.type,
        Alarm.site_id: query.site_id,
        Alarm.state: query.state,
    }
    for column, value in filters.items():
        if value is not None:
            statement = statement.where(column == value)
    statement = statement.order_by(Alarm.last_seen.desc(), Alarm.id.desc())
    alarms = session.scalars(statement.limit(query.limit).offset(query.offset))
    return [AlarmPublic.model_validate(alarm) for alarm in alarms]


@router.get("/{alarm_id}")
def get_alarm(alarm: AlarmDep) -> AlarmPublic:
    """One alarm with its comments."""
    return AlarmPublic.model_validate(alarm)


def _change(session: SessionDep, alarm: Alarm, apply: Callable[[], None]) -> AlarmPublic:
    try:
        apply()
    except lifecycle.AlarmStateError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    session.commit()
    return AlarmPublic.model_validate(alarm)


@router.post("/{alarm_id}/acknowledge")
def acknowledge_alarm(alarm: AlarmDep, user: Writer, session: SessionDep) -> AlarmPublic:
    """Mark an active alarm as seen."""
    return _change(session, alarm, lambda: lifecycle.acknowledge(alarm, user.username))


@router.post("/{alarm_id}/assign")
def assign_alarm(
    alarm: AlarmDep, body: AssignBody, user: Writer, session: SessionDep
) -> AlarmPublic:
    """Give the alarm to someone."""
    return _change(session, alarm, lambda: lifecycle.assign(alarm, body.assignee, user.username))


@router.post("/{alarm_id}/comments", status_code=status.HTTP_201_CREATED)
def comment_alarm(
    alarm: AlarmDep, body: CommentBody, user: Writer, session: SessionDep
) -> AlarmPublic:
    """Add a note."""
    return _change(session, alarm, lambda: lifecycle.comment(alarm, user.username, body.text))


@router.post("/{alarm_id}/clear")
def clear_alarm(alarm: AlarmDep, body: ClearBody, user: Writer, session: SessionDep) -> AlarmPublic:
    """Close the alarm; a new trigger opens a new one."""
    return _change(session, alarm, lambda: lifecycle.clear(alarm, user.username, body.reason))
