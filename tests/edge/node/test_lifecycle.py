"""A node's parts start publisher-first and stop inputs-first; identities are checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from edge.comms.config import OutboxConfig, TransportConfig
from edge.contract import private_key_text
from edge.contract.signing import SignatureError
from edge.node.identity import NodeIdentity, open_publisher
from edge.node.lifecycle import start_parts, stop_parts


class Part:
    """Writes ``name.start`` / ``name.stop`` into a shared journal."""

    def __init__(self, name: str, journal: list[str]) -> None:
        self.name, self.journal = name, journal

    def start(self) -> None:
        self.journal.append(f"{self.name}.start")

    def stop(self) -> None:
        self.journal.append(f"{self.name}.stop")


@pytest.mark.parametrize("with_server", [True, False])
def test_parts_start_and_stop_in_a_safe_order(with_server: bool) -> None:
    journal: list[str] = []
    camera, reader = Part("camera", journal), Part("reader", journal)
    server = Part("server", journal) if with_server else None
    publisher = Part("publisher", journal)
    start_parts(publisher, [camera, reader], server)
    stop_parts([reader, camera], server, publisher, drain=lambda: journal.append("drain"))
    endpoint = (["server.start"], ["server.stop"]) if with_server else ([], [])
    assert journal == [
        "publisher.start", "camera.start", "reader.start", *endpoint[0],
        "reader.stop", "camera.stop", "drain", *endpoint[1], "publisher.stop",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("device_id", "site_id", "error"),
    [
        ("gate-1", "compound-1", None),
        ("gate/1", "compound-1", "'gate/1'"),
        ("gate-1", "compound+1", "'compound\\+1'"),
        ("", "compound-1", "''"),
    ],
)
def test_identity_ids_must_be_topic_safe(
    tmp_path: Path, device_id: str, site_id: str, error: str | None
) -> None:
    data = {"device_id": device_id, "site_id": site_id, "key_file": str(tmp_path / "k")}
    if error is None:
        assert NodeIdentity.model_validate(data).device_id == device_id
        return
    with pytest.raises(ValidationError, match=error):
        NodeIdentity.model_validate(data)


def test_publisher_speaks_for_the_identity(tmp_path: Path) -> None:
    key_file = tmp_path / "device.key"
    identity = NodeIdentity(device_id="gate-9", site_id="compound-9", key_file=key_file)
    transport = TransportConfig(outbox=OutboxConfig(path=tmp_path / "outbox.sqlite3"))
    with pytest.raises(OSError):
        open_publisher(identity, transport)
    key_file.write_text("not a key\n")
    with pytest.raises(SignatureError):
        open_publisher(identity, transport)
    key_file.write_text(private_key_text(Ed25519PrivateKey.generate()) + "\n")
    publisher = open_publisher(identity, transport)
    assert publisher.software_version != "" and publisher.outbox_depth == 0
