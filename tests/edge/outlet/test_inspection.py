"""Generated inspection videos through the outlet's checks: each flag exactly as expected."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from edge.contract import ParcelInspection
from edge.outlet.inspector import OutletInspector
from tests.edge.outlet.conftest import VALID_ID
from tests.edge.outlet.scenes import Scenario, Textures, render

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

SCENARIOS = [
    Scenario("compliant_15s"),
    Scenario("compliant_qr", code="qr"),
    Scenario("no_inspection", opened=False, expected_flags=["NOT_OPENED", "MISSING_INSPECTION"]),
    Scenario("short_3s", inspect_s=3.0, expected_flags=["SHORT_INSPECTION"]),
    Scenario("no_xray", xray=False, expected_flags=["NO_XRAY"]),
    Scenario(
        "waving_over_closed_box",
        opened=False,
        wave_closed_s=10.0,
        expected_flags=["NOT_OPENED", "MISSING_INSPECTION"],
    ),
    Scenario("no_label", waybill=None, expected_flags=["NO_WAYBILL"]),
    Scenario("noise", noise=6.0),
    Scenario("brightness_drift", drift=0.2),
    Scenario("shake", shake_px=2),
]


def run(
    scenario: Scenario, textures: Textures, inspector: OutletInspector
) -> list[ParcelInspection]:
    """Feed the scenario's frames; every payload that became final, flushed at the end."""
    inspector.sender.submit(VALID_ID, read_s=0.5)
    done: list[ParcelInspection] = []
    t = 0.0
    for t, frame in render(scenario, textures):
        done += inspector.desk_frame(frame, t, T0 + timedelta(seconds=t))
    return done + inspector.flush(t)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_flags_match_ground_truth(
    scenario: Scenario, textures: Textures, inspector: OutletInspector, tmp_path: Path
) -> None:
    (tmp_path / "truth.json").write_text(json.dumps(scenario.truth()), encoding="utf-8")
    records = run(scenario, textures, inspector)
    assert len(records) == 1
    record = records[0]
    assert record.flags == scenario.expected_flags
    assert record.opened == scenario.opened
    if scenario.opened:
        assert record.inspection_s == pytest.approx(scenario.inspect_s, abs=1.5)
    if scenario.waybill is not None:
        assert record.waybill_number == scenario.waybill
        assert record.waybill_method == ("qr" if scenario.code == "qr" else "barcode")
    assert record.sender_status == "verified"
    assert record.sender_id_masked == "1101**********002X"
    assert VALID_ID not in record.model_dump_json()


@pytest.mark.parametrize(
    ("presented", "status"),
    [(None, "missing"), ("110105194912310021", "invalid")],
)
def test_without_a_valid_id_the_parcel_has_no_real_name(
    presented: str | None, status: str, textures: Textures, inspector: OutletInspector
) -> None:
    if presented is not None:
        inspector.sender.submit(presented, read_s=0.5)
    done: list[ParcelInspection] = []
    for t, frame in render(Scenario("anonymous", inspect_s=9.0), textures):
        done += inspector.desk_frame(frame, t, T0 + timedelta(seconds=t))
    (record,) = done
    assert record.flags == ["NO_REAL_NAME"]
    assert record.sender_status == status and record.sender_id_hash is None


def test_a_resolution_change_mid_stream_is_survived(
    textures: Textures, inspector: OutletInspector
) -> None:
    frames = list(render(Scenario("resized"), textures))
    for t, frame in frames[:40]:
        inspector.desk_frame(frame, t, T0 + timedelta(seconds=t))
    t = frames[40][0]
    assert inspector.desk_frame(frames[40][1][::2, ::2].copy(), t, T0) == []
    assert inspector.desk_frame(np.zeros((8, 8, 3), np.uint8), t + 0.1, T0) == []
