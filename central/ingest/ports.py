"""What ingest, rules and gallery distribution need from the rest of central, as protocols.

The registry (``central.registry.queries``) and the live feed (``central.feeds.bus``) satisfy
these structurally; tests may pass small stand-ins.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session


class DeviceRecord(Protocol):
    """A registered device as ingest sees it."""

    @property
    def device_id(self) -> str: ...
    @property
    def site_id(self) -> str: ...
    @property
    def public_key(self) -> str: ...
    @property
    def active(self) -> bool: ...


class PersonRecord(Protocol):
    """A person's validity window as the stale-grant and overstay rules see it."""

    @property
    def person_id(self) -> str: ...
    @property
    def person_kind(self) -> str: ...
    @property
    def valid_from(self) -> datetime | None: ...
    @property
    def valid_until(self) -> datetime | None: ...
    @property
    def active(self) -> bool: ...


DeviceLookup = Callable[[Session, str], DeviceRecord | None]
PersonLookup = Callable[[Session, str], PersonRecord | None]


class EventSink(Protocol):
    """The live feed: ``publish`` is thread-safe and never blocks for long."""

    def publish(self, kind: str, data: dict[str, Any]) -> None: ...
