"""QR passes, cards and PINs through the stdin and HTTP adapters, and guard remote-open."""

from __future__ import annotations

import json
import os
import queue
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from edge.contract import RemoteOpen, VisitorPass, issue_pass, sign_message
from edge.credentials.attempt import CredentialAttempt
from edge.credentials.checks import CardPinChecker, QrVerifier
from edge.credentials.config import CredentialsConfig, build_readers
from edge.credentials.desk import CredentialDesk
from edge.credentials.readers import HttpReader, StreamReader
from edge.credentials.remote_open import RemoteOpenVerifier
from edge.credentials.serial_reader import ReaderError
from edge.gallery.store import GalleryStore
from edge.recognize.search import TemplateIndex
from tests.edge.transport.helpers import (
    AT_REST_KEY,
    CENTRAL_KEY,
    COMPOUND,
    DIMENSION,
    GALLERY_KEY,
    entry,
    signed,
    unit_vectors,
)

NOW = datetime.now(UTC)
FORGER = Ed25519PrivateKey.from_private_bytes(bytes(32))


def _pass(key: Ed25519PrivateKey = CENTRAL_KEY, **changes: Any) -> str:
    grant = {
        "pass_id": "p1",
        "visitor_id": "visitor-7",
        "compound_id": COMPOUND,
        "gate_ids": ["east"],
        "valid_from": NOW - timedelta(hours=1),
        "valid_until": NOW + timedelta(hours=1),
    } | changes
    return issue_pass(VisitorPass.model_validate(grant), key)


QR_CASES = [
    ("valid", _pass(), "east", True, "valid"),
    ("expired", _pass(valid_until=NOW - timedelta(minutes=1)), "east", False, "expired"),
    ("forged", _pass(FORGER), "east", False, "forged"),
    ("wrong gate", _pass(), "west", False, "wrong_gate"),
    ("other compound", _pass(compound_id="compound-2"), "east", False, "wrong_gate"),
    ("not yet", _pass(valid_from=NOW + timedelta(hours=1)), "east", False, "not_yet_valid"),
    ("garbage", "hello", "east", False, "malformed"),
]


@pytest.mark.parametrize(
    ("case", "text", "gate", "accepted", "reason"), QR_CASES, ids=[c[0] for c in QR_CASES]
)
def test_qr_pass(case: str, text: str, gate: str, accepted: bool, reason: str) -> None:
    attempt = QrVerifier(CENTRAL_KEY.public_key(), COMPOUND).check(text, gate)
    assert (attempt.method, attempt.gate_id, attempt.accepted, attempt.reason) == (
        "qr",
        gate,
        accepted,
        reason,
    ), case
    assert attempt.person_id == ("visitor-7" if accepted else None)


def _gallery(tmp_path: Path) -> GalleryStore:
    """An empty gallery store of the test compound."""
    return GalleryStore(
        tmp_path / "g.sqlite3",
        AT_REST_KEY,
        GALLERY_KEY,
        CENTRAL_KEY.public_key(),
        COMPOUND,
        TemplateIndex(DIMENSION, backend="numpy"),
    )


def test_a_pass_central_revoked_is_refused_the_others_still_open(tmp_path: Path) -> None:
    store = _gallery(tmp_path)
    qr = QrVerifier(CENTRAL_KEY.public_key(), COMPOUND, store)
    assert qr.check(_pass(), "east").accepted
    revocation = {"pass_id": "p1", "valid_until": (NOW + timedelta(hours=1)).isoformat()}
    delta = {
        "kind": "gallery.delta",
        "compound_id": COMPOUND,
        "base_version": 0,
        "version": 1,
        "revoked_passes": [revocation],
    }
    store.apply(signed(delta))
    refused = qr.check(_pass(), "east")
    assert (refused.accepted, refused.reason, refused.person_id) == (False, "revoked", "visitor-7")
    assert qr.check(_pass(pass_id="p2"), "east").accepted  # a pass issued after the change


@pytest.fixture
def attempts() -> queue.Queue[CredentialAttempt]:
    """Where the desk reports attempts."""
    return queue.Queue()


@pytest.fixture
def desk(tmp_path: Path, attempts: queue.Queue[CredentialAttempt]) -> CredentialDesk:
    """A desk over a gallery with a resident (card, PIN), an east-only and an expired visitor."""
    store = _gallery(tmp_path)
    template = unit_vectors(1, seed=5)
    entries = [
        entry("alice", template, cards=["1001"], pins=["4242"]),
        entry("vic", template, cards=["3003"], gate_ids=["east"], person_kind="visitor"),
        entry("old", template, cards=["4004"], valid_until=NOW - timedelta(days=1)),
    ]
    snapshot = {
        "kind": "gallery.snapshot",
        "compound_id": COMPOUND,
        "version": 1,
        "pack": "anju-open",
        "embedder": "fusion",
        "dimension": DIMENSION,
        "entries": entries,
    }
    store.apply(signed(snapshot))
    qr = QrVerifier(CENTRAL_KEY.public_key(), COMPOUND)
    return CredentialDesk(qr, CardPinChecker(store), attempts.put)


def _drain(attempts: queue.Queue[CredentialAttempt], count: int) -> list[CredentialAttempt]:
    return [attempts.get(timeout=10) for _ in range(count)]


def test_cards_and_pins_from_stdin(
    desk: CredentialDesk, attempts: queue.Queue[CredentialAttempt]
) -> None:
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd) as stream, os.fdopen(write_fd, "w") as typed:
        StreamReader(desk, "west", stream).start()
        typed.write("card:1001\npin:4242\ncard:9999\nnonsense\ncard:3003\ncard:4004\n")
        typed.write(f"qr:{_pass()}\n")
        typed.flush()
        got = _drain(attempts, 6)
    assert [(a.method, a.person_id, a.accepted, a.reason) for a in got] == [
        ("card", "alice", True, "valid"),
        ("pin", "alice", True, "valid"),
        ("card", None, False, "unknown_card"),
        ("card", None, False, "wrong_gate"),
        ("card", None, False, "expired"),
        ("qr", None, False, "wrong_gate"),
    ]
    assert all(a.gate_id == "west" for a in got)
    assert desk.rejected_reads == 1


@pytest.fixture
def http_reader(desk: CredentialDesk) -> Iterator[HttpReader]:
    """The HTTP adapter on a free local port, for gates east and west."""
    reader = HttpReader(desk, ("east", "west"), "127.0.0.1", 0)
    reader.start()
    yield reader
    reader.stop()


def _post(reader: HttpReader, body: bytes, path: str = "/credential") -> tuple[int, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{reader.port}{path}", data=body)
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_cards_and_pins_over_http(
    http_reader: HttpReader, attempts: queue.Queue[CredentialAttempt]
) -> None:
    card = json.dumps({"method": "card", "value": "3003"}).encode()
    assert _post(http_reader, card) == (200, {"accepted": True, "reason": "valid"})
    assert _drain(attempts, 1)[0].gate_id == "east", "the first gate is the default"
    pin = json.dumps({"method": "pin", "value": "0000", "gate_id": "west"}).encode()
    assert _post(http_reader, pin) == (200, {"accepted": False, "reason": "unknown_pin"})
    status, _ = _post(
        http_reader, json.dumps({"method": "card", "value": "1", "gate_id": "x"}).encode()
    )
    assert status == 400
    assert _post(http_reader, b"{not json")[0] == 400
    assert _post(http_reader, json.dumps({"method": "face", "value": "1"}).encode())[0] == 400
    assert _post(http_reader, card, path="/other")[0] == 404
    assert attempts.qsize() == 1


def test_methods_can_be_disabled(tmp_path: Path) -> None:
    got: list[CredentialAttempt] = []
    qr = QrVerifier(CENTRAL_KEY.public_key(), COMPOUND)
    desk = CredentialDesk(qr, CardPinChecker(_NoGallery()), got.append, methods=["qr"])
    assert desk.submit("pin", "4242", "east").reason == "method_disabled"
    assert desk.submit("qr", _pass(), "east").accepted
    assert len(got) == 2


class _NoGallery:
    def person_by_credential(self, method: str, value: str) -> None:
        return None


def test_readers_from_config(desk: CredentialDesk) -> None:
    config = CredentialsConfig.model_validate(
        {
            "readers": [
                {"kind": "stdin", "gate_id": "east"},
                {"kind": "http", "gate_ids": ["east"], "port": 0},
            ]
        }
    )
    readers = build_readers(config, desk)
    assert [type(r) for r in readers] == [StreamReader, HttpReader]
    for reader in readers:
        if isinstance(reader, HttpReader):
            reader.stop()
    serial = CredentialsConfig.model_validate(
        {"readers": [{"kind": "serial", "gate_id": "east", "device": "/dev/null"}]}
    )
    with pytest.raises(ReaderError, match="pyserial"):
        build_readers(serial, desk)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"readers": [{"kind": "stdin", "gate": "east"}]}, "gate"),
        ({"methods": ["face"]}, "methods"),
        ({"readers": [{"kind": "http", "gate_ids": []}]}, "gate_ids"),
    ],
)
def test_bad_credentials_config_names_the_key(settings: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        CredentialsConfig.model_validate(settings)


def _open_command(
    issued_at: datetime, key: Ed25519PrivateKey = CENTRAL_KEY, **changes: Any
) -> bytes:
    fields = {"gate_id": "east", "operator": "guard-1", "command_id": "c1", "issued_at": issued_at}
    command = RemoteOpen.model_validate(fields | changes)
    return json.dumps(sign_message(command.model_dump(mode="json"), key)).encode()


REMOTE_CASES = [
    ("fresh", _open_command(NOW - timedelta(seconds=1)), True, "valid"),
    ("11 s old", _open_command(NOW - timedelta(seconds=11)), False, "stale_command"),
    ("from the future", _open_command(NOW + timedelta(seconds=30)), False, "future_command"),
    ("forged", _open_command(NOW, FORGER), False, "forged"),
    ("other gate", _open_command(NOW, gate_id="west"), False, "wrong_gate"),
    ("garbage", b"[1, 2]", False, "malformed"),
]


@pytest.mark.parametrize(
    ("case", "message", "accepted", "reason"), REMOTE_CASES, ids=[c[0] for c in REMOTE_CASES]
)
def test_remote_open(case: str, message: bytes, accepted: bool, reason: str) -> None:
    verifier = RemoteOpenVerifier(CENTRAL_KEY.public_key(), ("east",))
    attempt = verifier.check(message, now=NOW)
    assert (attempt.method, attempt.accepted, attempt.reason) == ("guard", accepted, reason), case


def test_remote_open_replay_is_refused() -> None:
    verifier = RemoteOpenVerifier(CENTRAL_KEY.public_key(), ("east",))
    message = _open_command(NOW)
    assert verifier.check(message, now=NOW).accepted
    assert verifier.check(message, now=NOW + timedelta(seconds=1)).reason == "replayed"
    assert verifier.check(_open_command(NOW, command_id="c2"), now=NOW).accepted
