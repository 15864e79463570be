"""Secret files for a node: created owner-only when missing, never overwritten."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from edge.contract import load_private_key
from edge.node.cli import create_key_files, new_token


def test_missing_files_are_created_owner_only_and_existing_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    device, extra, token = tmp_path / "keys/device.key", tmp_path / "hash.key", tmp_path / "tok"
    extra.write_text("kept-secret\n")
    create_key_files(device, {extra: new_token}, token)
    output = capsys.readouterr().out
    assert f"created {device}" in output and f"kept    {extra}" in output
    assert f"created {token}" in output and "device public key" in output
    assert extra.read_text() == "kept-secret\n"
    for created in (device, token):
        assert stat.S_IMODE(created.stat().st_mode) == 0o600
    assert len(token.read_text().strip()) >= 32
    key_before = device.read_text()
    load_private_key(key_before)
    create_key_files(device, {}, None)
    assert device.read_text() == key_before
    assert f"kept    {device}" in capsys.readouterr().out
