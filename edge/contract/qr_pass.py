"""Visitor QR passes: signed by central (Ed25519), verified offline at the gate.

A pass is ``ANJU1.<payload>.<signature>``, both parts base64url; the payload is canonical JSON.
"""

from __future__ import annotations

import json
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from edge.contract.signing import b64url, unb64url

PREFIX = "ANJU1"


class PassError(ValueError):
    """A pass that is malformed, forged, expired or not for this gate; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VisitorPass(BaseModel):
    """What a visitor's pass grants."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pass_id: str
    visitor_id: str
    compound_id: str
    gate_ids: list[str] = Field(description="Gates it opens; empty means every gate.")
    valid_from: AwareDatetime
    valid_until: AwareDatetime


def issue_pass(grant: VisitorPass, key: Ed25519PrivateKey) -> str:
    """The QR text of ``grant`` signed with central's key."""
    body = json.dumps(grant.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    payload = b64url(body.encode("utf-8"))
    return f"{PREFIX}.{payload}.{b64url(key.sign(payload.encode('ascii')))}"


def verify_pass(
    text: str, key: Ed25519PublicKey, compound_id: str, gate_id: str, now: datetime
) -> VisitorPass:
    """The pass in ``text`` if it is authentic and valid here and now, else ``PassError``."""
    parts = text.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise PassError("malformed")
    try:
        key.verify(unb64url(parts[2]), parts[1].encode("ascii"))
        grant = VisitorPass.model_validate_json(unb64url(parts[1]))
    except (InvalidSignature, ValueError, ValidationError) as exc:
        reason = "forged" if isinstance(exc, InvalidSignature) else "malformed"
        raise PassError(reason) from exc
    if grant.compound_id != compound_id or (grant.gate_ids and gate_id not in grant.gate_ids):
        raise PassError("wrong_gate")
    if now < grant.valid_from:
        raise PassError("not_yet_valid")
    if now > grant.valid_until:
        raise PassError("expired")
    return grant
