"""What could carry a face out of a gate, looked for in the raw bytes of each MQTT message: image
magic numbers (raw or base64), long base64 or hex blobs, runs of numbers as long as a template,
anything that is not a small JSON document."""

from __future__ import annotations

import json
import re

MAX_MESSAGE_BYTES = 4096
IMAGE_MAGIC = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"/9j/": "JPEG in base64",
    b"iVBORw0KGgo": "PNG in base64",
}
BLOB = re.compile(rb"[A-Za-z0-9+/_-]{100,}")
"""Base64, base64url or hex runs this long hold at least 50 bytes: a template (128 float32 are
512 bytes) or a thumbnail. An Ed25519 signature is 86 characters, an event id 36."""
NUMBER = rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
NUMBER_RUN = re.compile(rb"(?:" + NUMBER + rb"\s*[,;\s]\s*){15,}" + NUMBER)
"""Sixteen numbers in a row (a JSON array or a string): far fewer than any template dimension."""


def find_leaks(data: bytes) -> list[str]:
    """Why ``data`` could carry an image or a template (empty: it cannot)."""
    leaks = [f"{name} magic" for magic, name in IMAGE_MAGIC.items() if magic in data]
    if len(data) > MAX_MESSAGE_BYTES:
        leaks.append(f"{len(data)} bytes, over {MAX_MESSAGE_BYTES}")
    leaks += [f"blob of {len(run)} base64/hex characters" for run in BLOB.findall(data)]
    leaks += [f"run of numbers: {run[:40]!r}…" for run in NUMBER_RUN.findall(data)]
    try:
        json.loads(data)
    except ValueError:
        leaks.append("not a JSON document")
    return leaks
