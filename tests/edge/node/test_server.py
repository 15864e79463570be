"""The evidence endpoint: each kind of file with its own content type, metrics under a prefix."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.node.evidence import EvidenceServerConfig, is_evidence_id
from edge.node.server import EvidenceServer, content_type, open_evidence_server
from edge.outlet.evidence import ParcelEvidenceStore
from tests.edge.node.conftest import TOKEN, frames


@pytest.fixture
def server(store: ParcelEvidenceStore) -> Iterator[EvidenceServer]:
    metrics = {"parcels_total": 2.0, 'camera_up{camera="desk"}': 1.0}
    running = EvidenceServer(store, TOKEN, lambda: metrics, ("127.0.0.1", 0), "anju_outlet_")
    running.start()
    yield running
    running.stop()


def get(server: EvidenceServer, path: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}{path}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, reply.headers["Content-Type"], reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], b""


def test_snapshots_and_clips_carry_their_own_content_type(
    store: ParcelEvidenceStore, server: EvidenceServer
) -> None:
    snapshot, clip = store.save(frames(1)[0]), store.save_clip(frames(4))
    assert snapshot and clip
    status, kind, body = get(server, f"/evidence/{snapshot}")
    assert (status, kind, body[:3]) == (200, "image/jpeg", b"\xff\xd8\xff")
    status, kind, body = get(server, f"/evidence/{clip}")
    assert (status, kind, body[:4]) == (200, "video/x-msvideo", b"RIFF")


def test_metrics_come_out_under_the_node_prefix(server: EvidenceServer) -> None:
    status, kind, body = get(server, "/metrics")
    assert status == 200 and kind.startswith("text/plain")
    lines = body.decode().splitlines()
    assert lines == ['anju_outlet_camera_up{camera="desk"} 1', "anju_outlet_parcels_total 2"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("0123.jpg", "image/jpeg"),
        ("0123.JPG", "image/jpeg"),
        ("0123.avi", "video/x-msvideo"),
        ("0123.bin", "application/octet-stream"),
        ("0123", "application/octet-stream"),
    ],
)
def test_content_type_by_ending(name: str, expected: str) -> None:
    assert content_type(Path(name)) == expected


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("0123456789abcdef" * 2, True),
        ("0123456789ABCDEF" * 2, False),
        ("0123456789abcdef", False),
        ("../" + "a" * 29, False),
        ("a" * 32 + "\n", False),
        ("", False),
    ],
)
def test_evidence_ids_are_32_lower_hex_digits(text: str, valid: bool) -> None:
    assert is_evidence_id(text) is valid


def test_server_settings(tmp_path: Path, store: ParcelEvidenceStore) -> None:
    assert open_evidence_server(EvidenceServerConfig(enabled=False), store, dict, "p_") is None
    with pytest.raises(ValueError, match="token_file is required"):
        open_evidence_server(EvidenceServerConfig(), store, dict, "p_")
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    settings = EvidenceServerConfig(port=0, token_file=token_file)
    server = open_evidence_server(settings, store, dict, "p_")
    assert server is not None
    server.stop()  # never started: closes the socket without waiting
    with pytest.raises(OSError):
        open_evidence_server(settings.model_copy(update={"token_file": tmp_path / "none"}),
                             store, dict, "p_")  # fmt: skip
