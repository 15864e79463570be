"""Ed25519 signatures over canonical JSON, for events (device keys) and commands (central key).

The signed bytes are the message's JSON object without its ``signature`` member, serialised
with sorted keys, no whitespace and UTF-8: both sides compute them from the parsed object, so
key order and spacing on the wire do not matter.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

SIGNATURE_FIELD = "signature"
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
"""The canonical serialiser, built once (``json.dumps`` with options builds one per call)."""


class SignatureError(ValueError):
    """A message's signature is missing, malformed or does not verify."""


def canonical_bytes(message: dict[str, Any]) -> bytes:
    """The bytes that are signed: ``message`` without its signature, canonically serialised."""
    unsigned = {k: v for k, v in message.items() if k != SIGNATURE_FIELD}
    return _CANONICAL.encode(unsigned).encode("utf-8")


def b64url(data: bytes) -> str:
    """Unpadded base64url text of ``data``."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """The bytes of unpadded base64url ``text``."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_message(message: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """A copy of ``message`` carrying its Ed25519 signature (base64url)."""
    return {**message, SIGNATURE_FIELD: b64url(key.sign(canonical_bytes(message)))}


def verify_message(message: dict[str, Any], key: Ed25519PublicKey) -> None:
    """Raise ``SignatureError`` unless ``message`` carries a valid signature by ``key``."""
    signature = message.get(SIGNATURE_FIELD)
    if not isinstance(signature, str) or not signature:
        raise SignatureError("message is not signed")
    try:
        key.verify(unb64url(signature), canonical_bytes(message))
    except (InvalidSignature, ValueError) as exc:
        raise SignatureError("signature does not verify") from exc


def public_key_text(key: Ed25519PublicKey) -> str:
    """A public key as base64url of its 32 raw bytes (as stored in registries)."""
    return b64url(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def load_public_key(text: str) -> Ed25519PublicKey:
    """The public key written by ``public_key_text``."""
    try:
        return Ed25519PublicKey.from_public_bytes(unb64url(text))
    except ValueError as exc:
        raise SignatureError(f"not an Ed25519 public key: {exc}") from exc


def private_key_text(key: Ed25519PrivateKey) -> str:
    """A private key as base64url of its 32 raw bytes (for device key files)."""
    return b64url(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))


def load_private_key(text: str) -> Ed25519PrivateKey:
    """The private key written by ``private_key_text``."""
    try:
        return Ed25519PrivateKey.from_private_bytes(unb64url(text.strip()))
    except ValueError as exc:
        raise SignatureError(f"not an Ed25519 private key: {exc}") from exc
