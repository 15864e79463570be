"""Gate policy: who may pass which gate when, for faces and every other credential alike.

Checks, in order: enrolment, the person's gate allow-list, the visitor validity window, the
methods the gate takes, the gate's weekly schedule, liveness, and the anti-passback window.
The first that fails names the reason. A guard's remote open is a human decision and is only
refused when the credential layer refused it (e.g. a stale command).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from edge.contract.events import Decision, Liveness, Method
from edge.gallery.messages import Admission, admission_refusal

ALL_METHODS: tuple[Method, ...] = ("face", "qr", "card", "pin", "guard")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class PersonRecord(Admission, Protocol):
    """What the policy reads of an enrolled person (``edge.gallery.store.GalleryPerson``)."""

    @property
    def person_id(self) -> str: ...
    @property
    def person_kind(self) -> Literal["resident", "visitor"]: ...


class TimeWindow(BaseModel):
    """Open on these weekdays from ``start`` to ``end`` (local time; ``end`` < ``start`` wraps)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: list[Weekday] = Field(default_factory=lambda: list(_WEEKDAYS))
    start: time = Field(default=time(0, 0), description="HH:MM, inclusive.")
    end: time = Field(default=time(23, 59, 59), description="HH:MM, inclusive.")

    def contains(self, local: datetime) -> bool:
        """Whether the local time ``local`` is inside the window."""
        day, clock = _WEEKDAYS[local.weekday()], local.time().replace(tzinfo=None)
        if self.start <= self.end:
            return day in self.days and self.start <= clock <= self.end
        yesterday = _WEEKDAYS[(local.weekday() - 1) % 7]
        return (day in self.days and clock >= self.start) or (
            yesterday in self.days and clock <= self.end
        )


class GatePolicy(BaseModel):
    """The rules of one gate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schedule: list[TimeWindow] = Field(
        default_factory=lambda: [TimeWindow()], description="Open windows; empty: always closed."
    )
    methods: list[Method] = Field(default_factory=lambda: list(ALL_METHODS))
    anti_passback_s: float = Field(
        default=0, ge=0, description="A person granted here may not pass again this soon; 0: off."
    )
    passback_group: str | None = Field(
        default=None, description="Gates sharing a group share the anti-passback memory."
    )


class PolicyConfig(BaseModel):
    """Gate rules for the node; gates not listed follow ``default``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = Field(default="UTC", description="IANA zone of the schedules.")
    default: GatePolicy = Field(default_factory=GatePolicy)
    gates: dict[str, GatePolicy] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def gate(self, gate_id: str) -> GatePolicy:
        """The policy of ``gate_id``."""
        return self.gates.get(gate_id, self.default)


@dataclass(frozen=True)
class AccessRequest:
    """Someone (or something) asking to pass a gate."""

    gate_id: str
    method: Method
    at: datetime
    person_id: str | None
    person: PersonRecord | None = None
    credential_ok: bool = True
    credential_reason: str = "match"
    liveness: Liveness = "not_required"


@dataclass(frozen=True)
class Verdict:
    """The policy's answer."""

    decision: Decision
    reason: str


class Policy:
    """Applies ``PolicyConfig``; remembers recent grants for anti-passback (thread-safe)."""

    def __init__(self, config: PolicyConfig) -> None:
        self.config = config
        self._zone = ZoneInfo(config.timezone)
        self._granted: dict[tuple[str, str], datetime] = {}
        self._lock = threading.Lock()

    def evaluate(self, request: AccessRequest) -> Verdict:
        """Decide ``request``; a grant is remembered for anti-passback."""
        gate = self.config.gate(request.gate_id)
        reason = self._refusal(request, gate)
        if reason is None:
            reason = self._passback(request, gate)
        if reason is not None:
            return Verdict("denied", reason)
        return Verdict("granted", request.credential_reason)

    def _refusal(self, request: AccessRequest, gate: GatePolicy) -> str | None:
        if not request.credential_ok:
            return request.credential_reason
        if request.method not in gate.methods:
            return "method_not_allowed"
        if request.method == "guard":
            return None
        if request.method in ("face", "card", "pin") and request.person is None:
            return "not_enrolled"
        at, person = request.at, request.person
        if person is not None and (refused := admission_refusal(person, request.gate_id, at)):
            return refused
        if not _open(gate.schedule, request.at.astimezone(self._zone)):
            return "outside_schedule"
        if request.liveness == "failed":
            return "liveness_failed"
        return None

    def _passback(self, request: AccessRequest, gate: GatePolicy) -> str | None:
        if gate.anti_passback_s <= 0 or request.person_id is None or request.method == "guard":
            return None
        key = (gate.passback_group or request.gate_id, request.person_id)
        with self._lock:
            last = self._granted.get(key)
            if last is not None and request.at - last < timedelta(seconds=gate.anti_passback_s):
                return "anti_passback"
            self._granted[key] = request.at
            horizon = request.at - timedelta(seconds=gate.anti_passback_s)
            if len(self._granted) > 10_000:
                self._granted = {k: v for k, v in self._granted.items() if v >= horizon}
        return None


def _open(schedule: Sequence[TimeWindow], local: datetime) -> bool:
    return any(window.contains(local) for window in schedule)
