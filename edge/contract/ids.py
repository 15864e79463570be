"""UUIDv7 event ids: time-ordered, unique without coordination (RFC 9562)."""

from __future__ import annotations

import os
import time
import uuid


def new_event_id(unix_ms: int | None = None) -> uuid.UUID:
    """A version-7 UUID: 48-bit Unix milliseconds, then 74 random bits."""
    millis = int(time.time() * 1000) if unix_ms is None else unix_ms
    if not 0 <= millis < 1 << 48:
        raise ValueError(f"timestamp out of range for UUIDv7: {millis}")
    random_bits = int.from_bytes(os.urandom(10), "big")
    value = (millis << 80) | random_bits
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value)


def event_id_millis(event_id: uuid.UUID) -> int:
    """The Unix milliseconds a UUIDv7 was made at."""
    return event_id.int >> 80
