"""Evidence snapshots: stored, served only with the token, pruned; a failed write is survived."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from edge.node.evidence import EvidenceConfig, EvidenceStore
from edge.node.server import EvidenceServer

TOKEN = "t" * 40
IMAGE = np.full((48, 64, 3), 120, np.uint8)


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(EvidenceConfig(folder=tmp_path / "evidence", retention_days=1))


@pytest.fixture
def server(store: EvidenceStore) -> Iterator[EvidenceServer]:
    running = EvidenceServer(store, TOKEN, lambda: {"grants_total": 3.0}, ("127.0.0.1", 0))
    running.start()
    yield running
    running.stop()


def get(server: EvidenceServer, path: str, token: str | None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def test_saved_snapshot_is_served_with_the_token_only(
    store: EvidenceStore, server: EvidenceServer
) -> None:
    evidence_id = store.save(IMAGE)
    assert evidence_id is not None
    status, body = get(server, f"/evidence/{evidence_id}", TOKEN)
    assert status == 200 and body[:3] == b"\xff\xd8\xff"
    assert get(server, f"/evidence/{evidence_id}", None)[0] == 401
    assert get(server, f"/evidence/{evidence_id}", TOKEN[:-1] + "u")[0] == 401
    assert get(server, "/evidence/../../etc/passwd", TOKEN)[0] == 404
    assert get(server, "/evidence/" + "0" * 32, TOKEN)[0] == 404
    status, body = get(server, "/metrics", TOKEN)
    assert status == 200 and b"anju_gate_grants_total 3" in body


def test_short_token_is_refused(store: EvidenceStore) -> None:
    with pytest.raises(ValueError, match="16 characters"):
        EvidenceServer(store, "short", dict, ("127.0.0.1", 0))


def test_old_snapshots_are_pruned(store: EvidenceStore) -> None:
    old, new = store.save(IMAGE), store.save(IMAGE)
    assert old and new
    old_path = store.path(old)
    assert old_path is not None
    two_days_ago = time.time() - 2 * 86400
    os.utime(old_path, (two_days_ago, two_days_ago))
    assert store.prune() == 1
    assert store.path(old) is None and store.path(new) is not None


def test_unwritable_folder_loses_the_snapshot_not_the_decision(tmp_path: Path) -> None:
    store = EvidenceStore(EvidenceConfig(folder=tmp_path / "evidence"))
    (tmp_path / "evidence").rmdir()
    (tmp_path / "evidence").write_text("a file where the folder should be")
    assert store.save(IMAGE) is None
    assert store.failures == 1


def test_disabled_evidence_keeps_nothing(tmp_path: Path) -> None:
    store = EvidenceStore(EvidenceConfig(enabled=False, folder=tmp_path / "none"))
    assert store.save(IMAGE) is None and not (tmp_path / "none").exists()
