"""The gate's gallery: signed snapshots and deltas, refusals, restart, encryption at rest."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from edge.contract.signing import b64url
from edge.gallery.config import GalleryConfig, open_gallery, read_key_file
from edge.gallery.store import GalleryError, GalleryStore
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

ALICE = unit_vectors(2, seed=1)
BOB = unit_vectors(1, seed=2)
CAROL = unit_vectors(1, seed=3)


def _store(path: Path, at_rest_key: bytes = AT_REST_KEY) -> GalleryStore:
    index = TemplateIndex(DIMENSION, backend="numpy")
    return GalleryStore(path, at_rest_key, GALLERY_KEY, CENTRAL_KEY.public_key(), COMPOUND, index)


def _snapshot(version: int = 3, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "gallery.snapshot",
        "compound_id": COMPOUND,
        "version": version,
        "pack": "anju-open",
        "embedder": "fusion",
        "dimension": DIMENSION,
        "entries": [
            entry("alice", ALICE, cards=["1001"], pins=["4242"]),
            entry("bob", BOB, gate_ids=["east"], person_kind="visitor"),
        ],
    }
    return body | changes


def _delta(base: int = 3, version: int = 4, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "gallery.delta",
        "compound_id": COMPOUND,
        "base_version": base,
        "version": version,
        "upserts": [entry("carol", CAROL, cards=["2002"])],
        "deletions": ["alice"],
    }
    return body | changes


def _best(store: GalleryStore, query: np.ndarray) -> str | None:
    found = store.index.search(query)
    return found[0][0] if found and found[0][1] > 0.99 else None


@pytest.fixture
def store(tmp_path: Path) -> GalleryStore:
    made = _store(tmp_path / "gallery.sqlite3")
    assert made.apply(signed(_snapshot())) == 3
    return made


def test_snapshot_fills_index_people_and_credentials(store: GalleryStore) -> None:
    assert store.version == 3
    assert _best(store, ALICE[1]) == "alice"
    assert _best(store, BOB[0]) == "bob"
    assert len(store.index) == 3
    bob = store.person("bob")
    assert bob is not None and bob.gate_ids == ("east",) and bob.person_kind == "visitor"
    assert store.person_by_credential("card", "1001") == store.person("alice")
    assert store.person_by_credential("pin", " 4242 ") == store.person("alice")
    assert store.person_by_credential("card", "9999") is None


def test_delta_deletion_is_in_force_when_apply_returns(store: GalleryStore) -> None:
    assert store.apply(signed(_delta())) == 4
    assert _best(store, ALICE[0]) is None
    assert "alice" not in store.index
    assert store.person("alice") is None
    assert store.person_by_credential("card", "1001") is None
    assert _best(store, CAROL[0]) == "carol"
    assert store.person_by_credential("card", "2002") == store.person("carol")


def test_new_snapshot_forgets_people_it_no_longer_lists(store: GalleryStore) -> None:
    store.apply(signed(_snapshot(version=9, entries=[entry("carol", CAROL)])))
    assert (store.version, len(store.index), store.person("bob")) == (9, 1, None)
    assert store.person_by_credential("card", "1001") is None


def _tampered(**changes: Any) -> bytes:
    """A genuine delta with fields changed after central signed it."""
    return json.dumps(json.loads(signed(_delta())) | changes).encode()


FORGER = Ed25519PrivateKey.from_private_bytes(bytes(32))
Refusal = Callable[[], bytes]
REFUSALS: list[tuple[str, Refusal, str]] = [
    ("forged", lambda: signed(_delta(), FORGER), "forged"),
    ("revocation removed", lambda: _tampered(deletions=[]), "forged"),
    ("unsigned", lambda: b'{"kind": "gallery.delta"}', "forged"),
    ("not json", lambda: b"\xff\x00", "malformed"),
    ("other compound", lambda: signed(_delta(compound_id="compound-2")), "wrong_compound"),
    ("gap", lambda: signed(_delta(base=4, version=5)), "gap"),
    ("stale delta", lambda: signed(_delta(base=2, version=3)), "stale"),
    ("stale snapshot", lambda: signed(_snapshot(version=2)), "stale"),
    ("other dimension", lambda: signed(_snapshot(version=5, dimension=512)), "incompatible"),
    (
        "wrong gallery key",
        lambda: signed(_delta(upserts=[entry("carol", CAROL, key=bytes(32))])),
        "malformed",
    ),
    (
        "template moved to another person",
        lambda: signed(_delta(upserts=[entry("carol", CAROL) | {"person_id": "mallory"}])),
        "malformed",
    ),
    ("unknown field", lambda: signed(_delta() | {"extra": 1}), "malformed"),
]


@pytest.mark.parametrize(("case", "message", "reason"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_messages_change_nothing(
    store: GalleryStore, case: str, message: Refusal, reason: str
) -> None:
    with pytest.raises(GalleryError) as refused:
        store.apply(message())
    assert refused.value.reason == reason, case
    assert store.version == 3
    assert _best(store, ALICE[0]) == "alice"
    assert store.person("carol") is None


def test_restart_reloads_the_index(tmp_path: Path, store: GalleryStore) -> None:
    store.apply(signed(_delta()))
    store.close()
    reopened = _store(tmp_path / "gallery.sqlite3")
    assert reopened.version == 4
    assert _best(reopened, CAROL[0]) == "carol"
    assert _best(reopened, BOB[0]) == "bob"
    assert _best(reopened, ALICE[0]) is None
    assert reopened.person_by_credential("card", "2002") == reopened.person("carol")
    assert reopened.apply(signed(_delta(base=4, version=5, upserts=[]))) == 5


def test_templates_are_encrypted_at_rest(tmp_path: Path, store: GalleryStore) -> None:
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("gallery"))
    assert len(raw) > 0
    for template in [*ALICE, *BOB]:
        plain = template.astype("<f4").tobytes()
        for start in range(0, len(plain) - 16, 64):
            assert plain[start : start + 16] not in raw
    store.close()
    with pytest.raises(GalleryError) as refused:
        _store(tmp_path / "gallery.sqlite3", at_rest_key=bytes(32))
    assert refused.value.reason == "incompatible"


def test_gallery_file_of_another_compound_is_refused(tmp_path: Path, store: GalleryStore) -> None:
    store.close()
    with pytest.raises(GalleryError) as refused:
        GalleryStore(
            tmp_path / "gallery.sqlite3",
            AT_REST_KEY,
            GALLERY_KEY,
            CENTRAL_KEY.public_key(),
            "compound-2",
            TemplateIndex(DIMENSION, backend="numpy"),
        )
    assert refused.value.reason == "wrong_compound"


def test_open_from_config_with_key_files(tmp_path: Path) -> None:
    (tmp_path / "at_rest.key").write_text(b64url(AT_REST_KEY) + "\n")
    (tmp_path / "gallery.key").write_text(b64url(GALLERY_KEY))
    config = GalleryConfig.model_validate(
        {
            "path": str(tmp_path / "g.sqlite3"),
            "at_rest_key_file": str(tmp_path / "at_rest.key"),
            "gallery_key_file": str(tmp_path / "gallery.key"),
            "central_public_key": b64url(CENTRAL_KEY.public_key().public_bytes_raw()),
        }
    )
    store = open_gallery(config, COMPOUND, TemplateIndex(DIMENSION, backend="numpy"))
    assert store.apply(signed(_snapshot())) == 3
    (tmp_path / "short.key").write_text(b64url(bytes(16)))
    with pytest.raises(GalleryError, match="16 bytes"):
        read_key_file(tmp_path / "short.key")


def test_validity_dates_round_trip(tmp_path: Path) -> None:
    until = datetime(2030, 1, 1, tzinfo=UTC)
    store = _store(tmp_path / "g.sqlite3")
    store.apply(signed(_snapshot(entries=[entry("dan", BOB, valid_until=until)])))
    store.close()
    dan = _store(tmp_path / "g.sqlite3").person("dan")
    assert dan is not None and dan.valid_until == until and dan.valid_from is None


@pytest.mark.parametrize(
    ("changes", "named"),
    [({"central_public_key": "not-a-key"}, "central_public_key"), ({"pth": "x"}, "pth")],
)
def test_bad_gallery_config_names_the_key(changes: dict[str, str], named: str) -> None:
    settings = {
        "at_rest_key_file": "a.key",
        "gallery_key_file": "g.key",
        "central_public_key": b64url(CENTRAL_KEY.public_key().public_bytes_raw()),
    }
    with pytest.raises(ValidationError, match=named):
        GalleryConfig.model_validate(settings | changes)


def _revoked(pass_id: str, hours: float) -> dict[str, str]:
    until = datetime.now(UTC) + timedelta(hours=hours)
    return {"pass_id": pass_id, "valid_until": until.isoformat()}


def test_revoked_passes_follow_deltas_snapshots_and_restarts(
    tmp_path: Path, store: GalleryStore
) -> None:
    assert not store.pass_revoked("pass-1")
    revoked = [_revoked("pass-1", 2), _revoked("pass-old", -1)]  # the second already expired
    store.apply(signed(_delta(revoked_passes=revoked)))
    assert store.pass_revoked("pass-1")
    assert not store.pass_revoked("pass-old")
    store.close()
    reopened = _store(tmp_path / "gallery.sqlite3")
    assert reopened.pass_revoked("pass-1")
    reopened.apply(signed(_delta(base=4, version=5, upserts=[], revoked_passes=[])))
    assert reopened.pass_revoked("pass-1")  # a delta only adds
    reopened.apply(signed(_snapshot(version=6, revoked_passes=[_revoked("pass-2", 1)])))
    assert not reopened.pass_revoked("pass-1")  # a snapshot lists every revocation in force
    assert reopened.pass_revoked("pass-2")
    reopened.close()
    assert _store(tmp_path / "gallery.sqlite3").pass_revoked("pass-2")
