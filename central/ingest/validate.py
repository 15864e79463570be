"""Decide whether one MQTT message is a genuine event: schema, topic, device and signature."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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


def is_event_topic(topic: str) -> bool:
    """Whether a topic under the subscription carries events (not central's own commands)."""
    parts = topic.split("/")
    return device_of(topic) is not None and len(parts) >= 5 and parts[4] in (_EVENTS, _STATUS)


def _topic_kind(topic: str) -> str:
    parts = topic.split("/")
    if parts[4] == _STATUS and len(parts) == 5:
        return "device.status"
    return "/".join(parts[5:]) if parts[4] == _EVENTS and len(parts) == 6 else ""


def _rejection(message: Incoming, reason: str, detail: str) -> Rejected:
    return Rejected(reason, detail[:500], message.topic, device_of(message.topic))


def parse(message: Incoming) -> Parsed | Rejected:
    """The envelope in ``message`` if it is valid and on its own topic, or why not."""
    try:
        envelope, raw = parse_message(message.data)
    except ContractError as exc:
        return _rejection(message, exc.reason, str(exc))
    topic = message.topic
    if device_of(topic) != envelope.device_id or _topic_kind(topic) != envelope.kind:
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
