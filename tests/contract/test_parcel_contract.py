"""The ``parcel.inspection`` event on the wire: golden message, signature, privacy, schema."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.contract import (
    EVENT_KINDS,
    ContractError,
    Envelope,
    ParcelInspection,
    parse_message,
    verify_envelope,
)

GOLDEN = Path(__file__).with_name("golden") / "parcel_inspection.json"
DEVICE_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
HASH = "5d41402abc4b2a76b9719d911017c592" * 2


def _inspection() -> Envelope:
    return Envelope(
        event_id=uuid.UUID("019ac2a4-7b00-7000-8000-000000000002"),
        site_id="district-1",
        device_id="outlet-1",
        occurred_at=datetime(2026, 11, 26, 9, 0, 30, tzinfo=UTC),
        payload=ParcelInspection(
            outlet_id="outlet-1",
            desk_id="desk-1",
            parcel_session_id="019ac2a47b007000800000000000abcd",
            waybill_number="SF1234567890",
            waybill_method="barcode",
            sender_status="verified",
            sender_id_hash=HASH,
            sender_id_masked="1101**********002X",
            opened=True,
            inspection_s=3.2,
            xray_passed=True,
            xray_s_after_desk=2.5,
            flags=["SHORT_INSPECTION"],
            evidence_ids=["019ac2a47b007000800000000000ef01"],
            started_at=datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
            ended_at=datetime(2026, 11, 26, 9, 0, 20, tzinfo=UTC),
        ),
    )


def test_edge_output_matches_the_golden_message() -> None:
    assert _inspection().signed_json(DEVICE_KEY) == GOLDEN.read_bytes().strip()


def test_central_parses_and_verifies_the_golden_message() -> None:
    envelope, raw = parse_message(GOLDEN.read_bytes())
    verify_envelope(raw, DEVICE_KEY.public_key())
    assert envelope == _inspection()
    assert envelope.kind == "parcel.inspection" and "parcel.inspection" in EVENT_KINDS


def test_a_tampered_flag_list_fails_verification() -> None:
    message = json.loads(GOLDEN.read_bytes())
    message["payload"]["flags"] = []
    _, raw = parse_message(json.dumps(message).encode())
    with pytest.raises(ContractError, match="bad_signature"):
        verify_envelope(raw, DEVICE_KEY.public_key())


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"sender_id_masked": "11010519491231002X"}, "raw ID number in the masked field"),
        ({"sender_id_hash": "11010519491231002X"}, "raw ID number in the hash field"),
        ({"id_number": "11010519491231002X"}, "unknown field"),
        ({"flags": ["NO_HELMET"]}, "unknown flag"),
        ({"waybill_method": None}, "number without method"),
        ({"sender_id_hash": None}, "verified without hash"),
        ({"ended_at": "2026-11-26T08:00:00Z"}, "ends before it starts"),
        ({"inspection_s": -1}, "negative seconds"),
        ({"started_at": "2026-11-26T09:00:00"}, "naive time"),
    ],
)
def test_bad_payloads_are_schema_errors(change: dict[str, Any], problem: str) -> None:
    message = json.loads(GOLDEN.read_bytes())
    message["payload"].update(change)
    with pytest.raises(ContractError, match="schema"):
        parse_message(json.dumps(message).encode())
