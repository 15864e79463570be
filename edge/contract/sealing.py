"""Secrets that travel between central and gates: AES-256-GCM sealed blobs, keyed credential hashes.

Each compound has a 32-byte gallery key shared by central and the compound's gates at
provisioning. Face templates travel sealed with it (the person id as associated data, so a blob
cannot be moved to another person); card numbers and PINs travel only as HMAC-SHA256 hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from edge.contract.signing import b64url, unb64url

KEY_BYTES = 32
_NONCE_BYTES = 12


class SealError(ValueError):
    """A sealed blob that is malformed or was not sealed with this key for this person."""


def seal(key: bytes, plaintext: bytes, associated: bytes) -> str:
    """``plaintext`` encrypted and authenticated with ``key``, as base64url text."""
    nonce = os.urandom(_NONCE_BYTES)
    return b64url(nonce + AESGCM(key).encrypt(nonce, plaintext, associated))


def unseal(key: bytes, sealed: str, associated: bytes) -> bytes:
    """The plaintext of ``sealed``; ``SealError`` if forged, corrupt or not for ``associated``."""
    try:
        blob = unb64url(sealed)
        return AESGCM(key).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], associated)
    except (InvalidTag, ValueError) as exc:
        raise SealError("sealed data does not open with this key") from exc


def credential_hash(key: bytes, method: Literal["card", "pin"], value: str) -> str:
    """Keyed hash of a card number or PIN, as stored in registries and galleries."""
    return hmac.new(key, f"{method}:{value.strip()}".encode(), hashlib.sha256).hexdigest()
