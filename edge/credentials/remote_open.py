"""Guard remote-open: central's signed ``RemoteOpen`` command, refused when stale or replayed."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from edge.contract import REMOTE_OPEN_MAX_AGE_S, RemoteOpen, SignatureError, verify_message
from edge.credentials.attempt import CredentialAttempt

MAX_CLOCK_SKEW_S = 2.0


class RemoteOpenVerifier:
    """Accepts a remote-open only if central signed it for one of this node's gates, it is at
    most ``REMOTE_OPEN_MAX_AGE_S`` old, not from the future beyond the skew, and not seen."""

    def __init__(
        self,
        central_key: Ed25519PublicKey,
        gate_ids: tuple[str, ...],
        max_skew_s: float = MAX_CLOCK_SKEW_S,
    ) -> None:
        self._key = central_key
        self._gate_ids = gate_ids
        self._max_skew_s = max_skew_s
        self._lock = threading.Lock()
        self._seen: dict[str, datetime] = {}

    def check(self, message: bytes, now: datetime | None = None) -> CredentialAttempt:
        """The attempt for the command in ``message`` (a refused one names why)."""
        at = now or datetime.now(UTC)
        try:
            raw = json.loads(message)
            if not isinstance(raw, dict):
                raise ValueError("top level is not an object")
            verify_message(raw, self._key)
            command = RemoteOpen.model_validate({k: v for k, v in raw.items() if k != "signature"})
        except SignatureError:
            return CredentialAttempt("guard", "", None, False, "forged", at)
        except (ValueError, ValidationError):
            return CredentialAttempt("guard", "", None, False, "malformed", at)
        reason = self._refusal(command, at)
        return CredentialAttempt(
            "guard", command.gate_id, None, reason is None, reason or "valid", at
        )

    def _refusal(self, command: RemoteOpen, at: datetime) -> str | None:
        age_s = (at - command.issued_at).total_seconds()
        if age_s > REMOTE_OPEN_MAX_AGE_S:
            return "stale_command"
        if age_s < -self._max_skew_s:
            return "future_command"
        if command.gate_id not in self._gate_ids:
            return "wrong_gate"
        with self._lock:
            horizon = REMOTE_OPEN_MAX_AGE_S + self._max_skew_s
            self._seen = {
                c: t for c, t in self._seen.items() if (at - t).total_seconds() <= horizon
            }
            if command.command_id in self._seen:
                return "replayed"
            self._seen[command.command_id] = at
        return None
