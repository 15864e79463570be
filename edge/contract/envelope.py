"""The envelope every event travels in: who, where, when, which kind, and the signature."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from edge.contract.events import EventPayload
from edge.contract.ids import new_event_id
from edge.contract.signing import SignatureError, sign_message, verify_message

SCHEMA_VERSION: Literal[1] = 1
MAX_MESSAGE_BYTES = 64 * 1024
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class ContractError(ValueError):
    """A message that is not valid under the wire contract; ``reason`` is a short code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class Envelope(BaseModel):
    """One event as published by an edge node."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: uuid.UUID = Field(default_factory=new_event_id)
    site_id: str = Field(min_length=1, max_length=64, description="Compound or outlet id.")
    device_id: str = Field(min_length=1, max_length=64)
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    payload: EventPayload

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @property
    def kind(self) -> str:
        """The payload's kind, e.g. ``access.decision``."""
        return self.payload.kind

    def signed_json(self, key: Ed25519PrivateKey) -> bytes:
        """The wire form: JSON with the device's signature."""
        message = sign_message(self.model_dump(mode="json"), key)
        return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def parse_message(data: bytes) -> tuple[Envelope, dict[str, Any]]:
    """Decode and validate a wire message (signature not yet checked), with its raw object."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise ContractError("too_large", f"{len(data)} bytes > {MAX_MESSAGE_BYTES}")
    try:
        # What ``json.loads(data)`` does with bytes, with one decoder kept for every message.
        raw = _DECODER.decode(data.decode(json.detect_encoding(data), "surrogatepass"))
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise ContractError("malformed_json", str(exc)) from exc
    if not isinstance(raw, dict):
        raise ContractError("malformed_json", "top level is not an object")
    if _may_hold_bad_text(data):
        problem = _bad_text(raw)
        if problem is not None:
            raise ContractError("schema", problem)
    body = {k: v for k, v in raw.items() if k != "signature"}
    try:
        return Envelope.model_validate(body), raw
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ContractError("schema", f"{where}: {first['msg']}") from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
"""One decoder for every message (``json.loads`` with options builds a new one per call)."""


def _may_hold_bad_text(data: bytes) -> bool:
    """False when ``data`` cannot decode to a NUL or a lone surrogate: strict UTF-8 JSON can
    write a NUL only as an escape and a surrogate only as an escape or as UTF-8-style bytes
    starting 0xED (which ``json.loads`` passes through), and UTF-16 or UTF-32 JSON (which
    ``json.loads`` also reads) always has zero bytes."""
    return b"\x00" in data or b"\\u" in data or b"\xed" in data


def _bad_text(value: Any) -> str | None:
    """Why a key or string inside ``value`` cannot be stored or signed, or None: a NUL
    (databases refuse it) or a lone surrogate (not Unicode text: it has no UTF-8 bytes)."""
    if isinstance(value, str):
        if "\x00" in value:
            return "text must not contain NUL characters"
        if not value.isascii() and _LONE_SURROGATE.search(value):
            return "text must not contain lone surrogates"
        return None
    if isinstance(value, dict):
        items: list[Any] = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    else:
        return None
    return next((p for p in map(_bad_text, items) if p is not None), None)


def verify_envelope(raw: dict[str, Any], key: Ed25519PublicKey) -> None:
    """Raise ``ContractError('bad_signature', …)`` unless the device's signature verifies."""
    try:
        verify_message(raw, key)
    except SignatureError as exc:
        raise ContractError("bad_signature", str(exc)) from exc
