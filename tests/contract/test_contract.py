"""The wire contract, as both sides use it: golden messages, signatures, topics, QR passes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.contract import (
    AccessDecision,
    ContractError,
    Envelope,
    PassError,
    SealError,
    VisitorPass,
    central_event_subscription,
    credential_hash,
    device_of,
    event_id_millis,
    event_topic,
    issue_pass,
    load_private_key,
    load_public_key,
    new_event_id,
    parse_message,
    private_key_text,
    public_key_text,
    seal,
    unseal,
    verify_envelope,
    verify_pass,
)
from edge.contract.signing import canonical_bytes

GOLDEN = Path(__file__).with_name("golden")
DEVICE_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))


def _decision() -> Envelope:
    return Envelope(
        event_id=uuid.UUID("019ac2a4-7b00-7000-8000-000000000001"),
        site_id="compound-1",
        device_id="gate-1a",
        occurred_at=datetime(2026, 11, 26, 8, 30, tzinfo=UTC),
        payload=AccessDecision(
            gate_id="east",
            decision="granted",
            reason="match",
            method="face",
            person_id="resident-42",
            score=0.871,
            liveness="passed",
            evidence_ids=["ev-1"],
            gallery_version=7,
        ),
    )


def test_edge_output_matches_the_golden_message() -> None:
    golden = (GOLDEN / "access_decision.json").read_bytes().strip()
    assert _decision().signed_json(DEVICE_KEY) == golden


def test_central_accepts_the_golden_message_in_any_key_order() -> None:
    raw = json.loads((GOLDEN / "access_decision.json").read_bytes())
    shuffled = json.dumps(dict(reversed(list(raw.items())))).encode()
    envelope, parsed = parse_message(shuffled)
    verify_envelope(parsed, DEVICE_KEY.public_key())
    assert envelope == _decision()
    assert envelope.kind == "access.decision"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda m: m["payload"].update(person_id="resident-43"), "bad_signature"),
        (lambda m: m.update(signature=m["signature"][::-1]), "bad_signature"),
        (lambda m: m.pop("signature"), "bad_signature"),
    ],
)
def test_tampered_or_unsigned_messages_fail_verification(mutate: object, reason: str) -> None:
    message = json.loads(_decision().signed_json(DEVICE_KEY))
    mutate(message)  # type: ignore[operator]
    _, raw = parse_message(json.dumps(message).encode())
    with pytest.raises(ContractError) as caught:
        verify_envelope(raw, DEVICE_KEY.public_key())
    assert caught.value.reason == reason


def test_signature_by_another_device_fails() -> None:
    _, raw = parse_message(_decision().signed_json(OTHER_KEY))
    with pytest.raises(ContractError, match="bad_signature"):
        verify_envelope(raw, DEVICE_KEY.public_key())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{not json", "malformed_json"),
        (b"[1, 2]", "malformed_json"),
        (b"\xff\xfe", "malformed_json"),
        (b'{"site_id": "x"}', "schema"),
        (b"{" + b'"pad": "' + b"x" * 70_000 + b'"}', "too_large"),
    ],
)
def test_malformed_messages_are_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ContractError) as caught:
        parse_message(data)
    assert caught.value.reason == reason


def test_unknown_fields_and_kinds_are_schema_errors() -> None:
    message = json.loads(_decision().signed_json(DEVICE_KEY))
    message["payload"]["face_jpeg"] = "..."
    with pytest.raises(ContractError, match="schema"):
        parse_message(json.dumps(message).encode())
    message["payload"] = {"kind": "person.profile"}
    with pytest.raises(ContractError, match="schema"):
        parse_message(json.dumps(message).encode())


def test_event_ids_are_time_ordered_uuid7() -> None:
    first, second = new_event_id(1_700_000_000_000), new_event_id(1_700_000_000_001)
    assert first.version == 7 and first.variant == uuid.RFC_4122
    assert first < second
    assert event_id_millis(first) == 1_700_000_000_000


def test_topics_are_device_scoped() -> None:
    assert event_topic("gate-1a", "access.decision") == "anju/v1/dev/gate-1a/events/access.decision"
    assert device_of("anju/v1/dev/gate-1a/events/x") == "gate-1a"
    assert device_of("elsewhere/dev/gate-1a") is None
    assert central_event_subscription().startswith("$share/")
    with pytest.raises(ValueError, match="letters"):
        event_topic("gate/#", "access.decision")


def test_keys_round_trip_as_text() -> None:
    public = load_public_key(public_key_text(DEVICE_KEY.public_key()))
    private = load_private_key(private_key_text(DEVICE_KEY))
    assert public_key_text(public) == public_key_text(private.public_key())


NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _pass(**changes: object) -> VisitorPass:
    fields: dict[str, object] = {
        "pass_id": "p-1",
        "visitor_id": "v-9",
        "compound_id": "compound-1",
        "gate_ids": ["east"],
        "valid_from": NOW - timedelta(hours=1),
        "valid_until": NOW + timedelta(hours=1),
    }
    return VisitorPass.model_validate(fields | changes)


def test_valid_pass_is_accepted_offline() -> None:
    text = issue_pass(_pass(), DEVICE_KEY)
    assert verify_pass(text, DEVICE_KEY.public_key(), "compound-1", "east", NOW).visitor_id == "v-9"


@pytest.mark.parametrize(
    ("text", "gate", "reason"),
    [
        (issue_pass(_pass(valid_until=NOW - timedelta(minutes=1)), DEVICE_KEY), "east", "expired"),
        (
            issue_pass(_pass(valid_from=NOW + timedelta(minutes=5)), DEVICE_KEY),
            "east",
            "not_yet_valid",
        ),
        (issue_pass(_pass(), OTHER_KEY), "east", "forged"),
        (issue_pass(_pass(), DEVICE_KEY), "west", "wrong_gate"),
        ("ANJU1.garbage", "east", "malformed"),
        ("not a pass", "east", "malformed"),
    ],
)
def test_bad_passes_are_refused_with_a_reason(text: str, gate: str, reason: str) -> None:
    with pytest.raises(PassError) as caught:
        verify_pass(text, DEVICE_KEY.public_key(), "compound-1", gate, NOW)
    assert caught.value.reason == reason


def test_pass_payload_tampering_is_forged() -> None:
    prefix, _, signature = issue_pass(_pass(), DEVICE_KEY).split(".")
    other_payload = issue_pass(_pass(gate_ids=[]), DEVICE_KEY).split(".")[1]
    with pytest.raises(PassError, match="forged"):
        verify_pass(
            f"{prefix}.{other_payload}.{signature}",
            DEVICE_KEY.public_key(),
            "compound-1",
            "west",
            NOW,
        )


def test_sealed_templates_open_only_for_their_person_and_key() -> None:
    key, other = bytes(32), bytes([1] * 32)
    sealed = seal(key, b"\x00\x01template", b"resident-42")
    assert unseal(key, sealed, b"resident-42") == b"\x00\x01template"
    for wrong_key, person in ((other, b"resident-42"), (key, b"resident-43")):
        with pytest.raises(SealError):
            unseal(wrong_key, sealed, person)
    with pytest.raises(SealError):
        unseal(key, "!!not base64", b"resident-42")


def test_credential_hashes_are_keyed_and_typed() -> None:
    key = bytes(32)
    assert credential_hash(key, "card", " 1234 ") == credential_hash(key, "card", "1234")
    assert credential_hash(key, "card", "1234") != credential_hash(key, "pin", "1234")
    assert credential_hash(key, "pin", "1234") != credential_hash(bytes([9] * 32), "pin", "1234")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"gate_id":"east"', '"gate_id":"ea\\u0000st"'),
        ('"score":0.871', '"score":NaN'),
        ('"score":0.871', '"score":Infinity'),
    ],
)
def test_nul_text_and_non_finite_numbers_are_refused(old: str, new: str) -> None:
    data = _decision().signed_json(DEVICE_KEY).decode().replace(old, new).encode()
    assert new in data.decode()
    with pytest.raises(ContractError) as caught:
        parse_message(data)
    assert caught.value.reason in {"schema", "malformed_json"}


def test_nul_is_found_in_any_json_encoding_and_an_escaped_backslash_is_not_a_nul() -> None:
    text = _decision().signed_json(DEVICE_KEY).decode()
    with_nul = text.replace('"gate_id":"east"', '"gate_id":"ea\\u0000st"')
    for encoding in ("utf-8", "utf-16", "utf-32-le"):
        with pytest.raises(ContractError) as caught:
            parse_message(with_nul.encode(encoding))
        assert caught.value.reason == "schema", encoding
    backslash = text.replace('"gate_id":"east"', '"gate_id":"ea\\\\u0000st"')
    envelope, _ = parse_message(backslash.encode())
    assert isinstance(envelope.payload, AccessDecision)
    assert envelope.payload.gate_id == "ea\\u0000st"


@pytest.mark.parametrize(
    "gate_id",
    [b'"ea\\ud800st"', b'"ea\\uDC00st"', b'"ea\xed\xa0\x80st"', b'"\\ude00\\ud83d"'],
    ids=["escaped-high", "escaped-low", "utf8-bytes", "pair-reversed"],
)
def test_lone_surrogates_are_refused_as_schema_errors(gate_id: bytes) -> None:
    """Text with no UTF-8 form can be neither signed nor stored: it is a schema error, not a
    crash of whoever computes the signed bytes."""
    data = _decision().signed_json(DEVICE_KEY).replace(b'"east"', gate_id)
    for encoded in (data, data.decode("utf-8", "surrogatepass").encode("utf-16", "surrogatepass")):
        with pytest.raises(ContractError) as caught:
            parse_message(encoded)
        assert caught.value.reason == "schema"
        assert "surrogate" in str(caught.value)


def test_surrogate_pairs_and_text_near_the_surrogates_are_accepted() -> None:
    data = _decision().signed_json(DEVICE_KEY)
    for gate_id, text in [
        (b'"\\ud83d\\ude00"', "\U0001f600"),
        ('"\ud7a3\ue000"'.encode(), "\ud7a3\ue000"),
        ('"한국"'.encode(), "한국"),
    ]:
        envelope, raw = parse_message(data.replace(b'"east"', gate_id))
        assert isinstance(envelope.payload, AccessDecision)
        assert envelope.payload.gate_id == raw["payload"]["gate_id"] == text


TRICKY_VALUES: list[object] = [
    "é中文😀\u2028\u2029\x7f",
    '\x01\x1f"\\/\t\n',
    "한국\ud7a3\ue000\uffff",
    [0.1, 0.871, 1e16, 1e-7, -0.0, 5e-324, 1.7976931348623157e308, 100.0, 1 / 3],
    [0, -1, 2**63, -(2**70), True, False, None],
    {"z": {"b": [1, {"y": 2, "x": [[], {}]}], "a": ""}, "é": 1, "E": 2, "e": 3, "": 4},
    [[[[["deep"]]]]],
]


@pytest.mark.parametrize("value", TRICKY_VALUES, ids=range(len(TRICKY_VALUES)))
def test_signed_bytes_are_exactly_the_contracts_serialisation(value: object) -> None:
    """The signed bytes stay those of the contract's definition (sorted keys, no spaces,
    UTF-8, no NaN) for unicode, floats, big integers and nesting, whatever serialiser computes
    them; and they survive a round trip through the wire."""
    message = {"payload": {"kind": "x", "value": value}, "signature": "s", "site_id": "c"}
    definition = json.dumps(
        {k: v for k, v in message.items() if k != "signature"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")
    assert canonical_bytes(message) == definition
    assert canonical_bytes(json.loads(json.dumps(message))) == definition


def test_signed_bytes_refuse_non_finite_numbers() -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        canonical_bytes({"payload": {"score": float("nan")}})
