"""MQTT topics and protocol versions. Devices publish only under their own ``dev/<id>/``
prefix and read only their own commands and their site's gallery, which lets the broker's ACL
enforce who may say what."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BeforeValidator

ROOT = "anju/v1"
CENTRAL_SHARE_GROUP = "central"
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def check_id(value: str) -> str:
    """``value`` if it is safe inside a topic (letters, digits, ``_.-``), else ValueError."""
    if not _ID.match(value):
        raise ValueError(f"id {value!r} must be 1-64 of letters, digits, '_', '.', '-'")
    return value


def event_topic(device_id: str, kind: str) -> str:
    """Where a device publishes events of ``kind``."""
    return f"{ROOT}/dev/{check_id(device_id)}/events/{kind}"


def status_topic(device_id: str) -> str:
    """The device's retained online/offline status (its MQTT last will)."""
    return f"{ROOT}/dev/{check_id(device_id)}/status"


def command_topic(device_id: str, name: str) -> str:
    """Where central sends ``name`` commands (e.g. ``open``) to one device."""
    return f"{ROOT}/dev/{check_id(device_id)}/cmd/{name}"


def gallery_topic(site_id: str) -> str:
    """Where central publishes a compound's gallery snapshots and deltas."""
    return f"{ROOT}/site/{check_id(site_id)}/gallery"


def central_event_subscription() -> str:
    """The shared subscription central ingest workers split events and statuses with."""
    return f"$share/{CENTRAL_SHARE_GROUP}/{ROOT}/dev/+/+/#"


def device_of(topic: str) -> str | None:
    """The device id a ``dev/<id>/…`` topic belongs to, or None."""
    parts = topic.split("/")
    if len(parts) >= 4 and "/".join(parts[:2]) == ROOT and parts[2] == "dev":
        return parts[3]
    return None


def _protocol_text(value: object) -> object:
    """YAML reads ``protocol: 5`` as a number: take it as the text "5"."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


MqttProtocol = Annotated[Literal["5", "3.1.1"], BeforeValidator(_protocol_text)]
"""The MQTT version a client speaks: 5, or 3.1.1 for a broker without MQTT 5 (the demo's
embedded one): no session expiry, properties or shared subscriptions."""
