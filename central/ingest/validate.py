"""Decide whether one MQTT message is a genuine event: schema, topic, device and signature."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from central.ingest.ports import DeviceRecord
from edge.contract import (
    ContractError,
    Envelope,
    SignatureError,
    device_of,
    load_public_key,
    parse_message,
    verify_envelope,
)

_EVENTS = "events"
_STATUS = "status"


@dataclass(frozen=True)
class Incoming:
    """A message as received: its topic and bytes, and the MQTT id to acknowledge."""

    topic: str
    data: bytes
    mid: int = 0


@dataclass(frozen=True)
class Accepted:
    """A message that passed every check."""

    envelope: Envelope
    raw: dict[str, Any]


@dataclass(frozen=True)
class Rejected:
    """A message refused, with the reason it is counted under."""

    reason: str
    detail: str
    topic: str
    device_id: str | None


@lru_cache(maxsize=4096)
def _public_key(text: str) -> Ed25519PublicKey:
    return load_public_key(text)


def is_event_topic(topic: str) -> bool:
    """Whether a topic under the subscription carries events (not central's own commands)."""
    parts = topic.split("/")
    return device_of(topic) is not None and len(parts) >= 5 and parts[4] in (_EVENTS, _STATUS)


def _topic_kind(topic: str) -> str:
    parts = topic.split("/")
    if parts[4] == _STATUS and len(parts) == 5:
        return "device.status"
    return "/".join(parts[5:]) if parts[4] == _EVENTS and len(parts) == 6 else ""


def check_message(
    message: Incoming, lookup: Callable[[str], DeviceRecord | None]
) -> Accepted | Rejected:
    """Accept ``message`` or say why not; ``lookup`` finds a registered device by id."""
    topic_device = device_of(message.topic)

    def reject(reason: str, detail: str) -> Rejected:
        return Rejected(reason, detail[:500], message.topic, topic_device)

    try:
        envelope, raw = parse_message(message.data)
    except ContractError as exc:
        return reject(exc.reason, str(exc))
    if topic_device != envelope.device_id or _topic_kind(message.topic) != envelope.kind:
        return reject("topic_mismatch", f"{envelope.device_id} {envelope.kind} on {message.topic}")
    device = lookup(envelope.device_id)
    if device is None or not device.active:
        return reject("unknown_device", f"{envelope.device_id} is not an active device")
    if device.site_id != envelope.site_id:
        return reject("site_mismatch", f"{envelope.site_id} is not {device.site_id}")
    try:
        verify_envelope(raw, _public_key(device.public_key))
    except (ContractError, SignatureError) as exc:
        return reject("bad_signature", str(exc))
    return Accepted(envelope, raw)
