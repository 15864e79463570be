"""Offline checks of visitor QR passes (central's signature) and cards/PINs (the gallery)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edge.contract import PassError, verify_pass
from edge.credentials.attempt import CredentialAttempt
from edge.gallery.messages import GalleryPerson, admission_refusal


class CredentialLookup(Protocol):
    """The gallery, as far as cards and PINs need it."""

    def person_by_credential(
        self, method: Literal["card", "pin"], value: str
    ) -> GalleryPerson | None: ...


class PassRevocations(Protocol):
    """The gallery, as far as QR passes need it: the passes central revoked."""

    def pass_revoked(self, pass_id: str) -> bool: ...


class QrVerifier:
    """Checks visitor passes with central's public key, offline, and refuses those central
    revoked (``revocations``: the gallery, which brings the revocations)."""

    def __init__(
        self,
        central_key: Ed25519PublicKey,
        compound_id: str,
        revocations: PassRevocations | None = None,
    ) -> None:
        self._key = central_key
        self._compound_id = compound_id
        self._revocations = revocations

    def check(self, text: str, gate_id: str, now: datetime | None = None) -> CredentialAttempt:
        """The attempt for the pass in ``text`` shown at ``gate_id``."""
        at = now or datetime.now(UTC)
        try:
            grant = verify_pass(text, self._key, self._compound_id, gate_id, at)
        except PassError as exc:
            return CredentialAttempt("qr", gate_id, None, False, exc.reason, at)
        if self._revocations is not None and self._revocations.pass_revoked(grant.pass_id):
            return CredentialAttempt("qr", gate_id, grant.visitor_id, False, "revoked", at)
        return CredentialAttempt("qr", gate_id, grant.visitor_id, True, "valid", at)


class CardPinChecker:
    """Looks cards and PINs up in the gallery and checks the holder's gates and validity."""

    def __init__(self, gallery: CredentialLookup) -> None:
        self._gallery = gallery

    def check(
        self,
        method: Literal["card", "pin"],
        value: str,
        gate_id: str,
        now: datetime | None = None,
    ) -> CredentialAttempt:
        """The attempt for card number or PIN ``value`` presented at ``gate_id``."""
        at = now or datetime.now(UTC)
        person = self._gallery.person_by_credential(method, value)
        if person is None:
            return CredentialAttempt(method, gate_id, None, False, f"unknown_{method}", at)
        reason = admission_refusal(person, gate_id, at)
        if reason is not None:
            return CredentialAttempt(method, gate_id, None, False, reason, at)
        return CredentialAttempt(method, gate_id, person.person_id, True, "valid", at)
