"""Signature checks of ingest: libsodium agrees with the contract's own check on every kind of
bad signature, a batch is checked in order with repeats checked once, and a pipeline refuses
forged messages in a batch while storing the rest (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.db.events_models import Event, IngestRejection
from central.ingest.pipeline import IngestPipeline
from central.ingest.validate import Incoming
from central.ingest.verify import (
    SignatureTask,
    check_signatures,
    signature_problem,
    signature_task,
)
from central.registry.queries import device_info
from edge.contract import (
    AccessDecision,
    ContractError,
    Envelope,
    event_topic,
    load_public_key,
    public_key_text,
    verify_envelope,
)
from tests.central.ingest.helpers import World

GRANT = AccessDecision(gate_id="east", decision="granted", reason="match", method="face")
KEY = Ed25519PrivateKey.generate()
KEY_TEXT = public_key_text(KEY.public_key())
Edit = Callable[[dict[str, Any]], object]


def _signed(key: Ed25519PrivateKey = KEY) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(
        Envelope(site_id="c1", device_id="gate-e", payload=GRANT).signed_json(key)
    )
    return raw


EDITS: list[tuple[str, Edit, str]] = [
    ("genuine", lambda m: None, KEY_TEXT),
    ("tampered payload", lambda m: m["payload"].update(decision="denied"), KEY_TEXT),
    ("tampered envelope", lambda m: m.update(site_id="c2"), KEY_TEXT),
    ("reversed signature", lambda m: m.update(signature=m["signature"][::-1]), KEY_TEXT),
    ("truncated signature", lambda m: m.update(signature=m["signature"][:40]), KEY_TEXT),
    ("not base64", lambda m: m.update(signature="!!!*"), KEY_TEXT),
    ("no signature", lambda m: m.pop("signature"), KEY_TEXT),
    ("empty signature", lambda m: m.update(signature=""), KEY_TEXT),
    ("signature not text", lambda m: m.update(signature=123), KEY_TEXT),
    (
        "other device's key",
        lambda m: None,
        public_key_text(Ed25519PrivateKey.generate().public_key()),
    ),
    ("key of wrong length", lambda m: None, KEY_TEXT[:20]),
]


def _central_verdict(raw: dict[str, Any], key_text: str) -> str | None:
    task = signature_task(raw, key_text)
    return task if isinstance(task, str) else signature_problem(task)


def _contract_accepts(raw: dict[str, Any], key_text: str) -> bool:
    try:
        verify_envelope(raw, load_public_key(key_text))
    except (ContractError, ValueError):
        return False
    return True


@pytest.mark.parametrize(("name", "edit", "key_text"), EDITS, ids=[e[0] for e in EDITS])
def test_central_check_agrees_with_the_contract(name: str, edit: Edit, key_text: str) -> None:
    raw = _signed()
    edit(raw)
    verdict = _central_verdict(raw, key_text)
    assert (verdict is None) == _contract_accepts(raw, key_text) == (name == "genuine")
    if verdict is not None:
        assert verdict.startswith("bad_signature: ")


def _tasks() -> list[SignatureTask]:
    tasks: list[SignatureTask] = []
    for index in range(40):
        raw = _signed(KEY if index % 3 else Ed25519PrivateKey.generate())
        task = signature_task(raw, KEY_TEXT)
        assert not isinstance(task, str)
        tasks.append(task)
    return tasks + tasks[:10]  # repeated messages, as after a redelivery


def test_a_batch_is_checked_in_order_with_repeats_checked_once() -> None:
    tasks = _tasks()
    problems = check_signatures(tasks)
    assert problems == [signature_problem(task) for task in tasks]
    expected = [i % 3 != 0 for i in range(40)]
    assert [problem is None for problem in problems] == expected + expected[:10]


def _forged(world: World) -> Incoming:
    envelope = Envelope(site_id="c1", device_id="gate-e", payload=GRANT)
    return Incoming(
        event_topic("gate-e", envelope.kind), envelope.signed_json(Ed25519PrivateKey.generate())
    )


def test_pipeline_refuses_forgeries_and_stores_the_rest(
    world: World, sessions: sessionmaker[Session]
) -> None:
    genuine = [world.message("gate-e", GRANT) for _ in range(6)]
    forged = [_forged(world) for _ in range(4)]
    batch = [*genuine[:3], *forged, *genuine[3:], genuine[0]]
    outcome = IngestPipeline(sessions, device_info).process(batch)
    assert (len(outcome.stored), outcome.duplicates) == (6, 1)
    assert [r.reason for r in outcome.rejected] == ["bad_signature"] * 4
    with sessions() as session:
        stored = set(session.scalars(select(Event.event_id)))
        reasons = list(session.scalars(select(IngestRejection.reason)))
    assert stored == {e.event_id for e in outcome.stored}
    assert reasons == ["bad_signature"] * 4
