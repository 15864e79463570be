"""One parcel's findings turned into the signed event's payload, flags included."""

from __future__ import annotations

from dataclasses import dataclass

from edge.contract import ParcelInspection
from edge.contract.events import ParcelFlag
from edge.outlet.config import InspectionConfig
from edge.outlet.sender import SenderRead
from edge.outlet.session import ParcelSession
from edge.outlet.waybill import WaybillRead
from edge.outlet.xray import Passage


@dataclass(frozen=True)
class Findings:
    """Everything known about one parcel once its X-ray window is settled."""

    session: ParcelSession
    waybill: WaybillRead | None
    sender: SenderRead | None
    passage: Passage | None


def parcel_flags(findings: Findings, rules: InspectionConfig) -> list[ParcelFlag]:
    """The non-compliance flags of one parcel, in a fixed order."""
    session = findings.session
    flags: list[ParcelFlag] = []
    if findings.waybill is None:
        flags.append("NO_WAYBILL")
    if findings.sender is None or findings.sender.status != "verified":
        flags.append("NO_REAL_NAME")
    if not session.opened:
        flags.append("NOT_OPENED")
    if session.inspection_s < rules.missing_inspection_s:
        flags.append("MISSING_INSPECTION")
    elif session.inspection_s < rules.short_inspection_s:
        flags.append("SHORT_INSPECTION")
    if findings.passage is None:
        flags.append("NO_XRAY")
    elif findings.passage.hits:
        flags.append("XRAY_ALARM")
    return flags


def build_payload(
    findings: Findings,
    rules: InspectionConfig,
    place: tuple[str, str],
    evidence_ids: list[str],
) -> ParcelInspection:
    """The ``parcel.inspection`` payload; ``place`` is (outlet id, desk id)."""
    session, sender, passage = findings.session, findings.sender, findings.passage
    assert session.ended_s is not None and session.ended_at is not None
    protected = sender.sender if sender is not None else None
    return ParcelInspection(
        outlet_id=place[0],
        desk_id=place[1],
        parcel_session_id=session.session_id,
        waybill_number=findings.waybill.number if findings.waybill else None,
        waybill_method=findings.waybill.method if findings.waybill else None,
        sender_status=sender.status if sender is not None else "missing",
        sender_id_hash=protected.hash_hex if protected else None,
        sender_id_masked=protected.masked if protected else None,
        opened=session.opened,
        inspection_s=round(session.inspection_s, 2),
        xray_passed=passage is not None,
        xray_s_after_desk=(
            round(max(0.0, passage.started_s - session.ended_s), 2) if passage else None
        ),
        flags=parcel_flags(findings, rules),
        evidence_ids=evidence_ids,
        started_at=session.started_at,
        ended_at=session.ended_at,
    )
