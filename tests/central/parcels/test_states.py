"""The parcel state machine, transition by transition."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from central.parcels.states import ParcelState, TransitionRefused, missing_for, transition


@dataclass
class _Parcel:
    state: str
    real_name: bool = True
    inspected: bool = True
    xray: bool = True


@pytest.mark.parametrize(
    ("start", "checks", "target", "refusal"),
    [
        ("received", (True, True, False), "accepted", None),
        ("received", (False, True, True), "accepted", "without real_name"),
        ("received", (True, False, True), "accepted", "without inspection"),
        ("received", (False, False, False), "accepted", "without real_name, inspection"),
        ("accepted", (True, True, True), "dispatched", None),
        ("accepted", (True, True, False), "dispatched", "without xray"),
        ("received", (True, True, True), "dispatched", "received parcel cannot become dispatched"),
        ("received", (False, False, False), "refused", None),
        ("accepted", (True, True, False), "refused", None),
        ("dispatched", (True, True, True), "refused", "dispatched parcel cannot become refused"),
        ("refused", (True, True, True), "accepted", "refused parcel cannot become accepted"),
        ("accepted", (True, True, True), "accepted", "accepted parcel cannot become accepted"),
    ],
)
def test_transitions(
    start: str, checks: tuple[bool, bool, bool], target: ParcelState, refusal: str | None
) -> None:
    parcel = _Parcel(start, *checks)
    if refusal is None:
        transition(parcel, target)
        assert parcel.state == target
    else:
        with pytest.raises(TransitionRefused, match=refusal):
            transition(parcel, target)
        assert parcel.state == start


def test_missing_lists_every_gap() -> None:
    bare = _Parcel("received", False, False, False)
    assert missing_for(bare, "accepted") == ["real_name", "inspection"]
    assert missing_for(bare, "dispatched") == ["real_name", "inspection", "xray"]
    assert missing_for(bare, "refused") == []
