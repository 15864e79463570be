"""Decide whether one MQTT message is a genuine event: schema, topic, device and signature."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from central.ingest.ports import DeviceRecord
from central.ingest.verify import SignatureTask, check_signatures, signature_task
from edge.contract import ContractError, Envelope, device_of, parse_message

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


@dataclass(frozen=True)
class Unverified:
    """A message that passed every check but its signature, and what that check needs."""

    envelope: Envelope
    raw: dict[str, Any]
    topic: str
    signature: SignatureTask


def is_event_topic(topic: str) -> bool:
    """Whether a topic under the subscription carries events (not central's own commands)."""
    parts = topic.split("/")
    return device_of(topic) is not None and len(parts) >= 5 and parts[4] in (_EVENTS, _STATUS)


def _topic_kind(topic: str) -> str:
    parts = topic.split("/")
    if parts[4] == _STATUS and len(parts) == 5:
        return "device.status"
    return "/".join(parts[5:]) if parts[4] == _EVENTS and len(parts) == 6 else ""


def precheck(
    message: Incoming, lookup: Callable[[str], DeviceRecord | None]
) -> Unverified | Rejected:
    """Check all but the signature, or say why not; ``lookup`` finds a registered device."""
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
    task = signature_task(raw, device.public_key)
    if isinstance(task, str):
        return reject("bad_signature", task)
    return Unverified(envelope, raw, message.topic, task)


def check_messages(
    messages: Sequence[Incoming],
    lookup: Callable[[str], DeviceRecord | None],
) -> list[Accepted | Rejected]:
    """Accept each message or say why not, in order; signatures are checked as one batch."""
    checked = [precheck(message, lookup) for message in messages]
    pending = [c for c in checked if isinstance(c, Unverified)]
    problems = iter(check_signatures([c.signature for c in pending]))
    results: list[Accepted | Rejected] = []
    for result in checked:
        if isinstance(result, Rejected):
            results.append(result)
            continue
        problem = next(problems)
        if problem is None:
            results.append(Accepted(result.envelope, result.raw))
        else:
            device_id = result.envelope.device_id
            results.append(Rejected("bad_signature", problem[:500], result.topic, device_id))
    return results
