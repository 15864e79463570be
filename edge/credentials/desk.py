"""The credential desk: readers hand it what was presented; it checks and reports attempts."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Literal

from edge.credentials.attempt import AttemptSink, CredentialAttempt, refused
from edge.credentials.checks import CardPinChecker, QrVerifier

log = logging.getLogger(__name__)

ReadMethod = Literal["qr", "card", "pin"]
READ_METHODS: tuple[ReadMethod, ...] = ("qr", "card", "pin")


class CredentialDesk:
    """Routes a presented QR pass, card or PIN to its check and pushes the attempt to ``sink``."""

    def __init__(
        self,
        qr: QrVerifier,
        cards: CardPinChecker,
        sink: AttemptSink,
        methods: Collection[ReadMethod] = READ_METHODS,
    ) -> None:
        self._qr = qr
        self._cards = cards
        self._sink = sink
        self._methods = frozenset(methods)
        self.rejected_reads = 0

    def submit(self, method: ReadMethod, value: str, gate_id: str) -> CredentialAttempt:
        """Check one presented credential and report the attempt."""
        if method not in self._methods:
            attempt = refused(method, gate_id, "method_disabled")
        elif method == "qr":
            attempt = self._qr.check(value, gate_id)
        else:
            attempt = self._cards.check(method, value, gate_id)
        log.info(
            "credential attempt method=%s gate=%s accepted=%s reason=%s",
            method,
            gate_id,
            attempt.accepted,
            attempt.reason,
        )
        try:
            self._sink(attempt)
        except Exception:
            log.exception("credential sink failed method=%s gate=%s", method, gate_id)
        return attempt

    def submit_line(self, line: str, gate_id: str) -> CredentialAttempt | None:
        """Submit a reader line ``card:NNNN``, ``pin:NNNN`` or ``qr:TEXT``; None if malformed."""
        method, sep, value = line.strip().partition(":")
        if not sep or not value.strip() or method not in READ_METHODS:
            self.rejected_reads += 1
            log.warning("credential read malformed gate=%s length=%d", gate_id, len(line))
            return None
        return self.submit(method, value.strip(), gate_id)
