"""The parcel state machine: received → accepted → dispatched, or refused before dispatch.

A parcel becomes ``accepted`` only with a verified real name and a complete open-box
inspection, and ``dispatched`` only after passing the X-ray machine.
"""

from __future__ import annotations

from typing import Literal, Protocol

ParcelState = Literal["received", "accepted", "dispatched", "refused"]
_NEXT: dict[str, tuple[str, ...]] = {
    "received": ("accepted", "refused"),
    "accepted": ("dispatched", "refused"),
    "dispatched": (),
    "refused": (),
}


class TransitionRefused(ValueError):
    """The parcel may not move to the requested state (yet)."""


class Checks(Protocol):
    """What a parcel's inspection established."""

    state: str
    real_name: bool
    inspected: bool
    xray: bool


def missing_for(parcel: Checks, target: ParcelState) -> list[str]:
    """What ``parcel`` still lacks to enter ``target`` (empty: nothing)."""
    missing = []
    if target in ("accepted", "dispatched"):
        if not parcel.real_name:
            missing.append("real_name")
        if not parcel.inspected:
            missing.append("inspection")
    if target == "dispatched" and not parcel.xray:
        missing.append("xray")
    return missing


def transition(parcel: Checks, target: ParcelState) -> None:
    """Move ``parcel`` to ``target``; raises ``TransitionRefused`` saying why not."""
    if target not in _NEXT[parcel.state]:
        raise TransitionRefused(f"a {parcel.state} parcel cannot become {target}")
    missing = missing_for(parcel, target)
    if missing:
        raise TransitionRefused(f"cannot become {target} without {', '.join(missing)}")
    parcel.state = target
