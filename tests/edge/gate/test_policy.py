"""Gate policy tables: enrolment, gates, validity, methods, schedules, liveness, anti-passback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from edge.gate.policy import AccessRequest, Policy, PolicyConfig
from tests.edge.gate.support import Person

# Wednesday 2026-11-25 10:00 UTC = 18:00 in Shanghai.
NOON = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
RESIDENT = Person("r1")
VISITOR = Person(
    "v1", "visitor", NOON - timedelta(hours=1), NOON + timedelta(hours=1), gate_ids=("north",)
)
CONFIG = PolicyConfig.model_validate(
    {
        "timezone": "Asia/Shanghai",
        "default": {"anti_passback_s": 30},
        "gates": {
            "north": {"methods": ["face", "qr", "card", "guard"]},
            "night": {"schedule": [{"days": ["wed"], "start": "22:00", "end": "06:00"}]},
            "weekend": {"schedule": [{"days": ["sat", "sun"]}]},
        },
    }
)


def request(**fields: object) -> AccessRequest:
    base: dict[str, object] = {
        "gate_id": "north",
        "method": "face",
        "at": NOON,
        "person_id": "r1",
        "person": RESIDENT,
    }
    return AccessRequest(**(base | fields))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "decision", "reason"),
    [
        ({}, "granted", "match"),
        ({"person": None}, "denied", "not_enrolled"),
        ({"person": VISITOR, "person_id": "v1"}, "granted", "match"),
        ({"person": VISITOR, "person_id": "v1", "gate_id": "south"}, "denied", "wrong_gate"),
        (
            {"person": VISITOR, "person_id": "v1", "at": NOON + timedelta(hours=2)},
            "denied",
            "expired",
        ),
        (
            {"person": VISITOR, "person_id": "v1", "at": NOON - timedelta(hours=2)},
            "denied",
            "not_yet_valid",
        ),
        ({"method": "pin"}, "denied", "method_not_allowed"),
        ({"gate_id": "weekend"}, "denied", "outside_schedule"),
        ({"gate_id": "night"}, "denied", "outside_schedule"),
        ({"gate_id": "night", "at": NOON + timedelta(hours=5)}, "granted", "match"),
        ({"gate_id": "night", "at": NOON + timedelta(hours=11)}, "granted", "match"),
        (
            {"gate_id": "night", "at": NOON + timedelta(days=1, hours=5)},
            "denied",
            "outside_schedule",
        ),
        ({"liveness": "failed"}, "denied", "liveness_failed"),
        ({"liveness": "passed"}, "granted", "match"),
        (
            {"method": "qr", "person": None, "person_id": "v9", "credential_reason": "valid"},
            "granted",
            "valid",
        ),
        (
            {
                "method": "qr",
                "person": None,
                "person_id": None,
                "credential_ok": False,
                "credential_reason": "forged",
            },
            "denied",
            "forged",
        ),
        (
            {
                "method": "card",
                "person": None,
                "person_id": None,
                "credential_ok": False,
                "credential_reason": "unknown_card",
            },
            "denied",
            "unknown_card",
        ),
        (
            {
                "method": "guard",
                "person": None,
                "person_id": None,
                "gate_id": "weekend",
                "credential_reason": "guard_open",
            },
            "granted",
            "guard_open",
        ),
        (
            {
                "method": "guard",
                "person": None,
                "person_id": None,
                "credential_ok": False,
                "credential_reason": "stale_command",
            },
            "denied",
            "stale_command",
        ),
    ],
)
def test_policy_table(fields: dict[str, object], decision: str, reason: str) -> None:
    verdict = Policy(CONFIG).evaluate(request(**fields))
    assert (verdict.decision, verdict.reason) == (decision, reason)


@pytest.mark.parametrize(
    ("second_after_s", "gate", "decision"),
    [(10, "south", "denied"), (31, "south", "granted"), (10, "east", "granted")],
)
def test_anti_passback(second_after_s: float, gate: str, decision: str) -> None:
    policy = Policy(CONFIG)
    assert policy.evaluate(request(gate_id="south")).decision == "granted"
    later = request(gate_id=gate, at=NOON + timedelta(seconds=second_after_s))
    verdict = policy.evaluate(later)
    assert verdict.decision == decision
    assert verdict.reason == ("anti_passback" if decision == "denied" else "match")


def test_denied_attempt_does_not_arm_anti_passback() -> None:
    policy = Policy(CONFIG)
    assert policy.evaluate(request(gate_id="south", liveness="failed")).decision == "denied"
    assert policy.evaluate(request(gate_id="south")).decision == "granted"
    assert policy.evaluate(request(gate_id="south")).reason == "anti_passback"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"gates": {"x": {"methods": ["iris"]}}}, "gates.x.methods.0"),
        ({"default": {"shedule": []}}, "default.shedule"),
        ({"gates": {"x": {"schedule": [{"days": ["funday"]}]}}}, "days"),
    ],
)
def test_bad_policy_config_names_the_key(data: dict[str, object], key: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PolicyConfig.model_validate(data)
    assert key in str(caught.value) or key.replace(".", "\n  ") in str(caught.value)
