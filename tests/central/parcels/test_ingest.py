"""Signed parcel.inspection events through the ingest pipeline: registries, rates and alarms,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.db.events_models import IngestRejection
from central.db.parcel_models import Parcel, Sender, Waybill
from central.parcels.rates import daily_rates
from tests.central.ingest.helpers import NOW, World, count_rows
from tests.central.parcels.helpers import (
    SENDER_HASH,
    SENDER_MASKED,
    SHANGHAI,
    alarms,
    inspection,
    parcel_pipeline,
)

TODAY = date(2026, 11, 26)


def _refused() -> float:
    return REGISTRY.get_sample_value("anju_parcel_inspections_refused_total") or 0.0


def _parcels(sessions: sessionmaker[Session]) -> list[Parcel]:
    with sessions() as session:
        return list(session.scalars(select(Parcel).order_by(Parcel.started_at)))


def test_compliant_inspection_registers_parcel_waybill_and_sender(
    sessions: sessionmaker[Session], world: World
) -> None:
    outcome = parcel_pipeline(sessions).process([world.message("outlet-d", inspection())])
    assert len(outcome.stored) == 1
    [parcel] = _parcels(sessions)
    assert (parcel.outlet_id, parcel.state, parcel.flags) == ("outlet-1", "received", [])
    assert parcel.real_name and parcel.inspected and parcel.xray
    with sessions() as session:
        bill = session.scalars(select(Waybill)).one()
        sender = session.scalars(select(Sender)).one()
    assert (bill.number, bill.first_outlet_id, parcel.waybill_id) == (
        "SF1234567890",
        "outlet-1",
        bill.id,
    )
    assert (sender.id_hash, sender.id_masked, parcel.sender_id) == (
        SENDER_HASH,
        SENDER_MASKED,
        sender.id,
    )
    with sessions() as session:
        assert daily_rates(session, "outlet-1", TODAY, SHANGHAI).complete
    assert alarms(sessions, "parcel_noncompliant") == []
    assert alarms(sessions, "outlet_below_target") == []


def test_flagged_parcel_raises_its_alarm_and_the_outlets_day_alarm(
    sessions: sessionmaker[Session], world: World
) -> None:
    pipeline = parcel_pipeline(sessions)
    short = inspection("SF0000000001", ("SHORT_INSPECTION",), inspection_s=3.0)
    pipeline.process([world.message("outlet-d", short)])
    [parcel] = _parcels(sessions)
    assert parcel.opened and not parcel.inspected
    [flagged] = alarms(sessions, "parcel_noncompliant")
    assert (flagged.subject, flagged.site_id) == (f"outlet-1/{parcel.id}", "outlet-1")
    assert "SHORT_INSPECTION" in flagged.detail
    [day] = alarms(sessions, "outlet_below_target")
    assert day.subject == "outlet-1/2026-11-26"
    assert "inspection 0%" in day.detail
    pipeline.process([world.message("outlet-d", inspection("SF0000000002"))])
    [day] = alarms(sessions, "outlet_below_target")
    assert (day.count, "inspection 50%" in day.detail) == (2, True)
    assert len(alarms(sessions, "parcel_noncompliant")) == 1


def test_one_waybill_at_two_outlets_raises_one_alarm(
    sessions: sessionmaker[Session], world: World
) -> None:
    pipeline = parcel_pipeline(sessions)
    pipeline.process([world.message("outlet-d", inspection("SF2222222222"))])
    assert alarms(sessions, "waybill_two_outlets") == []
    later = NOW + timedelta(minutes=5)
    twin = inspection("SF2222222222", outlet_id="outlet-2", started_at=later)
    pipeline.process([world.message("outlet-d2", twin, occurred_at=later)])
    [alarm] = alarms(sessions, "waybill_two_outlets")
    assert alarm.subject == "waybill/SF2222222222"
    assert "outlet-1, outlet-2" in alarm.detail
    assert sorted(p.outlet_id for p in _parcels(sessions)) == ["outlet-1", "outlet-2"]
    assert count_rows(sessions, Waybill) == 1


def test_unregistered_devices_raise_one_alarm_each(
    sessions: sessionmaker[Session], world: World
) -> None:
    pipeline = parcel_pipeline(sessions)
    for _ in range(2):
        outcome = pipeline.process(
            [
                world.message("rogue-outlet", inspection(), site_id="outlet-1"),
                world.message("gate-retired", inspection(), site_id="c1"),
            ]
        )
        assert [r.reason for r in outcome.rejected] == ["unknown_device", "unknown_device"]
    found = {a.subject: a.count for a in alarms(sessions, "unknown_device")}
    assert found == {"device/rogue-outlet": 2, "device/gate-retired": 2}
    assert count_rows(sessions, IngestRejection) == 4
    assert _parcels(sessions) == []


def test_forged_signature_changes_nothing(sessions: sessionmaker[Session], world: World) -> None:
    genuine = world.message("outlet-d", inspection())
    world.keys.pop("outlet-d")
    forged = world.message("outlet-d", inspection())
    outcome = parcel_pipeline(sessions).process([forged])
    assert [r.reason for r in outcome.rejected] == ["bad_signature"]
    assert _parcels(sessions) == [] and alarms(sessions, "unknown_device") == []
    assert genuine.data != forged.data


def test_reinspection_updates_and_older_or_repeated_events_do_not(
    sessions: sessionmaker[Session], world: World
) -> None:
    pipeline = parcel_pipeline(sessions)
    first = world.message("outlet-d", inspection(flags=("NO_XRAY",), xray_passed=False))
    pipeline.process([first])
    redo = NOW + timedelta(minutes=3)
    pipeline.process([world.message("outlet-d", inspection(), occurred_at=redo)])
    stale = world.message(
        "outlet-d", inspection(flags=("NOT_OPENED",), opened=False), occurred_at=NOW - timedelta(1)
    )
    outcome = pipeline.process([stale, first])
    assert (len(outcome.stored), outcome.duplicates) == (1, 1)
    [parcel] = _parcels(sessions)
    assert (parcel.xray, parcel.opened, parcel.flags, parcel.inspected_at) == (True, True, [], redo)


def test_parcels_without_waybill_are_kept_apart_by_session(
    sessions: sessionmaker[Session], world: World
) -> None:
    pipeline = parcel_pipeline(sessions)
    for minute in (1, 2):
        started = NOW - timedelta(minutes=minute)
        payload = inspection(None, ("NO_WAYBILL",), started_at=started)
        pipeline.process([world.message("outlet-d", payload)])
    parcels = _parcels(sessions)
    assert [(p.waybill_id, p.flags) for p in parcels] == [(None, ["NO_WAYBILL"])] * 2
    assert len(alarms(sessions, "parcel_noncompliant")) == 2


def test_rates_count_local_calendar_days(sessions: sessionmaker[Session], world: World) -> None:
    pipeline = parcel_pipeline(sessions)
    late = datetime(2026, 11, 26, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    after_midnight = datetime(2026, 11, 26, 16, 1, tzinfo=UTC)  # 00:01 on the 27th
    pipeline.process(
        [
            world.message("outlet-d", inspection("SF3333333331", started_at=late)),
            world.message(
                "outlet-d",
                inspection("SF3333333332", ("NO_XRAY",), after_midnight, xray_passed=False),
            ),
        ]
    )
    with sessions() as session:
        first = daily_rates(session, "outlet-1", TODAY, SHANGHAI)
        second = daily_rates(session, "outlet-1", date(2026, 11, 27), SHANGHAI)
    assert (first.parcels, first.complete) == (1, True)
    assert (second.parcels, second.xray_pct, second.real_name_pct) == (1, 0.0, 100.0)
    [day] = alarms(sessions, "outlet_below_target")
    assert day.subject == "outlet-1/2026-11-27"


def test_unfit_inspection_is_counted_and_spares_the_rest_of_the_batch(
    sessions: sessionmaker[Session], world: World
) -> None:
    before = _refused()
    outcome = parcel_pipeline(sessions).process(
        [
            world.message("outlet-d", inspection("SF" + "9" * 80)),
            world.message("outlet-d", inspection("SF4444444444", desk_id="d\x00")),
            world.message("outlet-d", inspection("SF4444444445")),
        ]
    )
    assert len(outcome.stored) == 2
    assert [r.reason for r in outcome.rejected] == ["schema"]  # the contract refuses NUL text
    assert _refused() - before == 1
    with sessions() as session:
        assert list(session.scalars(select(Waybill.number))) == ["SF4444444445"]


def test_a_superseded_inspection_raises_nothing_again(
    sessions: sessionmaker[Session], world: World
) -> None:
    pipeline = parcel_pipeline(sessions)
    later = NOW + timedelta(minutes=1)
    pipeline.process([world.message("outlet-d", inspection(flags=("NO_XRAY",)), later)])
    old = world.message("outlet-d", inspection(flags=("NO_XRAY", "NOT_OPENED")), NOW)
    pipeline.process([old])
    [alarm] = alarms(sessions, "parcel_noncompliant")
    assert (alarm.count, "NOT_OPENED" in alarm.detail) == (1, False)
