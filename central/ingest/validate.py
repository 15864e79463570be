"""Decide whether one MQTT message is a genuine event: schema, topic, device and signature."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from central.ingest import metrics
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
class Parsed:
    """A message whose bytes are a valid envelope on the topic it names; not yet checked
    against the registry or its signature."""

    envelope: Envelope
    raw: dict[str, Any]
    topic: str


@dataclass(frozen=True)
class Unverified:
    """A message that passed every check but its signature, and what that check needs."""

    envelope: Envelope
    raw: dict[str, Any]
    topic: str
    signature: SignatureTask


class _Topic(NamedTuple):
    device_id: str | None
    kind: str | None
    """The event kind the topic carries ("" if none fits), None if it is no event topic."""


@lru_cache(maxsize=4096)
def _topic(topic: str) -> _Topic:
    """What ``topic`` says (cached: a worker sees the same few topics over and over)."""
    device_id = device_of(topic)
    parts = topic.split("/")
    if device_id is None or len(parts) < 5 or parts[4] not in (_EVENTS, _STATUS):
        return _Topic(device_id, None)
    if parts[4] == _STATUS and len(parts) == 5:
        return _Topic(device_id, "device.status")
    return _Topic(device_id, parts[5] if parts[4] == _EVENTS and len(parts) == 6 else "")


def is_event_topic(topic: str) -> bool:
    """Whether a topic under the subscription carries events (not central's own commands)."""
    return _topic(topic).kind is not None


def _rejection(message: Incoming, reason: str, detail: str) -> Rejected:
    return Rejected(reason, detail[:500], message.topic, _topic(message.topic).device_id)


def parse(message: Incoming) -> Parsed | Rejected:
    """The envelope in ``message`` if it is valid and on its own topic, or why not."""
    try:
        envelope, raw = parse_message(message.data)
    except ContractError as exc:
        return _rejection(message, exc.reason, str(exc))
    topic = message.topic
    device_id, kind = _topic(topic)
    if device_id != envelope.device_id or kind != envelope.kind:
        detail = f"{envelope.device_id} {envelope.kind} on {topic}"
        return _rejection(message, "topic_mismatch", detail)
    return Parsed(envelope, raw, topic)


def precheck(parsed: Parsed, lookup: Callable[[str], DeviceRecord | None]) -> Unverified | Rejected:
    """Check a parsed message against the registry (``lookup`` finds a registered device)."""
    envelope = parsed.envelope

    def reject(reason: str, detail: str) -> Rejected:
        return Rejected(reason, detail[:500], parsed.topic, envelope.device_id)

    device = lookup(envelope.device_id)
    if device is None or not device.active:
        return reject("unknown_device", f"{envelope.device_id} is not an active device")
    if device.site_id != envelope.site_id:
        return reject("site_mismatch", f"{envelope.site_id} is not {device.site_id}")
    task = signature_task(parsed.raw, device.public_key)
    if isinstance(task, str):
        return reject("bad_signature", task)
    return Unverified(envelope, parsed.raw, parsed.topic, task)


def check_messages(
    messages: Sequence[Incoming],
    lookup: Callable[[str], DeviceRecord | None],
) -> list[Accepted | Rejected]:
    """Accept each message or say why not, in order; signatures are checked as one batch."""
    with metrics.stage("parse"):
        parsed = [parse(message) for message in messages]
    with metrics.stage("precheck"):
        checked = [p if isinstance(p, Rejected) else precheck(p, lookup) for p in parsed]
    pending = [c for c in checked if isinstance(c, Unverified)]
    with metrics.stage("verify"):
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
