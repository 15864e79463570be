"""Device signatures of a batch, checked with libsodium (PyNaCl).

The check is the contract's (``edge.contract.signing``): an Ed25519 signature by the device's
registered key over the canonical bytes of the message without its signature member. libsodium
verifies about twice as fast as OpenSSL (cryptography) here and PyNaCl releases the GIL while it
does, so paho's network thread and the worker's store thread (writing the previous batch) keep
running meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from edge.contract.signing import SIGNATURE_FIELD, canonical_bytes, unb64url

_PREFIX = "bad_signature: "
_NOT_SIGNED = _PREFIX + "message is not signed"
_DOES_NOT_VERIFY = _PREFIX + "signature does not verify"


class SignatureTask(NamedTuple):
    """What one signature check needs: the registered key, the signature, the signed bytes."""

    public_key: str
    signature: str
    signed: bytes


def signature_task(raw: dict[str, Any], public_key: str) -> SignatureTask | str:
    """The check of a parsed message ``raw`` under ``public_key``, or why there is none."""
    signature = raw.get(SIGNATURE_FIELD)
    if not isinstance(signature, str) or not signature:
        return _NOT_SIGNED
    return SignatureTask(public_key, signature, canonical_bytes(raw))


@lru_cache(maxsize=4096)
def _verify_key(text: str) -> VerifyKey:
    return VerifyKey(unb64url(text))


def signature_problem(task: SignatureTask) -> str | None:
    """Why the signature is not the device's (``bad_signature: …``), or None if it is."""
    try:
        key = _verify_key(task.public_key)
    except ValueError as exc:
        return f"{_PREFIX}not an Ed25519 public key: {exc}"
    try:
        key.verify(task.signed, unb64url(task.signature))
    except (BadSignatureError, ValueError):
        return _DOES_NOT_VERIFY
    return None


def check_signatures(tasks: Sequence[SignatureTask]) -> list[str | None]:
    """The problem of each task, in order (a message repeated in a batch is checked once)."""
    found = {task: signature_problem(task) for task in dict.fromkeys(tasks)}
    return [found[task] for task in tasks]
