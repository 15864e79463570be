"""Evidence files of every kind: found by id, pruned together, failures counted not raised."""

from __future__ import annotations

import os
import time
from pathlib import Path

from edge.node.evidence import EvidenceConfig
from edge.outlet.evidence import ParcelEvidenceStore
from tests.edge.node.conftest import frames


def test_partial_and_old_files_of_every_kind_are_pruned(store: ParcelEvidenceStore) -> None:
    folder = store.config.folder
    kept = store.save(frames(1)[0])
    old_snapshot, old_clip = store.save(frames(1)[0]), store.save_clip(frames(2))
    assert kept and old_snapshot and old_clip
    leftovers = [folder / "a.part", folder / "b.part.jpg", folder / "c.part.avi"]
    for path in leftovers:
        path.write_bytes(b"x")
    stranger = folder / "notes.txt"
    stranger.write_text("not evidence")
    two_days_ago = time.time() - 2 * 86400
    stored = [store.path(old_snapshot), store.path(old_clip)]
    for aged in [*stored, *leftovers, stranger]:
        assert aged is not None
        os.utime(aged, (two_days_ago, two_days_ago))
    assert store.prune() == 5
    assert store.path(kept) is not None and stranger.exists()
    assert store.path(old_snapshot) is None and store.path(old_clip) is None


def test_a_failed_clip_is_counted_and_leaves_nothing(tmp_path: Path) -> None:
    store = ParcelEvidenceStore(EvidenceConfig(folder=tmp_path / "evidence"))
    (tmp_path / "evidence").rmdir()
    (tmp_path / "evidence").write_text("a file where the folder should be")
    assert store.save_clip(frames(3)) is None
    assert store.save(frames(1)[0]) is None
    assert store.failures == 2


def test_nothing_is_kept_when_disabled_or_empty(tmp_path: Path) -> None:
    off = ParcelEvidenceStore(EvidenceConfig(enabled=False, folder=tmp_path / "off"))
    assert off.save_clip(frames(3)) is None and not (tmp_path / "off").exists()
    on = ParcelEvidenceStore(EvidenceConfig(folder=tmp_path / "on"))
    assert on.save_clip([]) is None and on.failures == 0
    assert list((tmp_path / "on").iterdir()) == []
