"""What every credential check produces, and where readers push it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

CredentialMethod = Literal["qr", "card", "pin", "guard"]


@dataclass(frozen=True)
class CredentialAttempt:
    """One credential presented at a gate, checked for authenticity and validity."""

    method: CredentialMethod
    gate_id: str
    person_id: str | None  # None when unknown/invalid
    accepted: bool  # authentic and valid (before gate policy)
    reason: str  # e.g. "valid", "expired", "forged", "wrong_gate", "unknown_card"
    at: datetime


AttemptSink = Callable[[CredentialAttempt], None]


def refused(method: CredentialMethod, gate_id: str, reason: str) -> CredentialAttempt:
    """A refused attempt, now, that needed no check (e.g. a method this node does not take)."""
    return CredentialAttempt(method, gate_id, None, False, reason, datetime.now(UTC))
