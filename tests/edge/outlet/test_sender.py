"""ID reads matched to parcels by time, from a keyboard-wedge stream."""

from __future__ import annotations

import io

import pytest

from edge.outlet.sender import SenderDesk, StreamSenderReader
from tests.edge.gate.support import wait_until
from tests.edge.outlet.conftest import HASH_KEY, VALID_ID


def test_the_latest_read_in_the_window_counts() -> None:
    desk = SenderDesk(HASH_KEY, lead_s=60)
    desk.submit("110105194912310021", read_s=10.0)
    desk.submit(VALID_ID, read_s=100.0)
    desk.submit("110105194912310021", read_s=500.0)
    read = desk.for_parcel(started_s=120.0, ended_s=150.0)
    assert read is not None and read.status == "verified"
    assert desk.for_parcel(started_s=300.0, ended_s=400.0) is None
    late = desk.for_parcel(started_s=480.0, ended_s=520.0)
    assert late is not None and late.status == "invalid"


def test_a_short_hash_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        SenderDesk(b"short", lead_s=60)


def test_stream_lines_are_read_and_bad_lines_counted() -> None:
    desk = SenderDesk(HASH_KEY, lead_s=60)
    StreamSenderReader(desk, io.StringIO(f"id:{VALID_ID}\ngarbage\n\nid:123\n")).start()
    wait_until(lambda: desk.rejected == 2, timeout_s=5)
    read = desk.for_parcel(0, 1e12)
    assert read is not None and read.status == "invalid"
