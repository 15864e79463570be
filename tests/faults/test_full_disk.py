"""An edge outbox on a real full disk and at its quota: the node never crashes, every event is
stored at central or named by an audited drop, and publishing resumes (issue #7)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from scripts.faults.full_disk import (
    DEVICES,
    MOST_DELIVERIES,
    DiskChoice,
    FilesystemUnavailable,
    fill,
    run_full_disk,
    small_filesystem,
)
from scripts.faults.stack import fault_stack
from tests.support.services import unavailable

EVENTS = 40
QUOTA = 10


def test_filling_leaves_no_block_and_removing_the_filler_frees_it(tmp_path: Path) -> None:
    try:
        with small_filesystem(tmp_path) as disk:
            filler = fill(disk)
            with pytest.raises(OSError) as full, (disk / "more").open("wb", buffering=0) as more:
                more.write(bytes(4096))
            filler.unlink()
            (disk / "after").write_bytes(bytes(4096))
    except FilesystemUnavailable as exc:
        unavailable(f"{exc} (the RLIMIT_FSIZE variant below still runs)")
    assert full.value.errno == errno.ENOSPC


@pytest.mark.slow
@pytest.mark.parametrize("disk", ["auto", "rlimit"])
def test_full_disk_and_quota_drops_are_all_audited(
    tmp_path: Path, fault_database: str, disk: DiskChoice
) -> None:
    with fault_stack(tmp_path / "run", fault_database, DEVICES) as stack:
        stack.start_ingest()
        report = run_full_disk(stack, EVENTS, disk)
    facts = report.facts
    if disk == "auto" and facts["disk"] != "mounted":
        unavailable("no small filesystem can be mounted here; the rlimit case covers the rest")
    assert report.problems == [], report.format()  # audits match refusals and drops exactly
    assert report.verdict.ok, report.format()  # everything else stored, exactly once

    refused_on_full_disk = facts["dev-0000_not_stored"]
    assert isinstance(refused_on_full_disk, int) and refused_on_full_disk > 0
    assert facts["dev-0000_audits"] == [("storage_error", "drop_oldest", refused_on_full_disk)]
    assert facts["dev-0000_journalled"] == 4 * EVENTS - refused_on_full_disk, "resumed"
    # no resend loop while deletes failed (it redelivered ~100 times); QoS 1 may deliver once
    # more when a connection breaks before the PUBACK
    assert facts["disk_node_most_deliveries"] in range(1, MOST_DELIVERIES + 1)

    assert facts["dev-0001_audits"] == [("quota", "drop_oldest", EVENTS - QUOTA)]
    assert facts["raw_lost"] == facts["audited_drops"] == EVENTS - QUOTA
    assert facts["dev-0002_quota_refused"] == EVENTS - QUOTA
    assert facts["dev-0002_audits"] == [("quota", "refuse_new", EVENTS - QUOTA)]
