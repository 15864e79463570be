"""Registry pages in Chromium: households, residents (ID number masked), visitors with their
window and consented enrolment, outlets (admins); write controls hidden from read-only roles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from central.alarms.lifecycle import raise_alarm
from central.db.base import utcnow
from central.db.events_models import GalleryVersion
from central.db.privacy_models import FaceTemplate
from central.db.registry_models import Household, Outlet, Resident, Visitor
from central.rules.correlate import AlarmTrigger
from tests.e2e.conftest import Stack

SignIn = Callable[[Page, str], None]
Shot = Callable[[Page, str], None]
ID_NUMBER = "310101198506151238"
ONE_FACE_BOX = (400, 200, 640, 480)


def face_photo(t1_image_path: Path, folder: Path) -> Path:
    """A crop of the group photo showing exactly one face."""
    path = folder / "visitor.jpg"
    Image.open(t1_image_path).convert("RGB").crop(ONE_FACE_BOX).save(path, format="JPEG")
    return path


def local_input(hours: int) -> str:
    """A datetime-local value ``hours`` from now (the browser's zone is the machine's)."""
    return (utcnow().astimezone() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def test_operator_adds_household_resident_and_visitor(
    page: Page, stack: Stack, sign_in: SignIn, screenshot: Shot
) -> None:
    sign_in(page, "opa")
    page.click("nav button[data-tab=residents]")
    expect(page.locator("#outlet-form")).to_be_hidden()
    page.fill("#household-form input[name=label]", "8-1-802")
    page.click("#household-form button")
    expect(page.locator("#household-form .result")).to_contain_text("已保存")
    page.select_option("#g-household", label="8-1-802")
    page.fill("#resident-form input[name=name]", "王五")
    page.fill("#resident-form input[name=id_number]", ID_NUMBER)
    page.click("#resident-form button")
    row = page.locator("#resident-rows tr", has_text="王五")
    expect(row).to_contain_text("310***********1238")
    assert ID_NUMBER not in page.content()
    page.select_option("#v-host", label="王五")
    page.fill("#visitor-form input[name=name]", "赵六")
    page.fill("#visitor-form input[name=birth_date]", "1992-07-01")
    page.fill("#visitor-form input[name=valid_from]", local_input(0))
    page.fill("#visitor-form input[name=valid_until]", local_input(-1))
    page.click("#visitor-form button")
    expect(page.locator("#visitor-form .result")).to_contain_text("已拒绝")
    page.fill("#visitor-form input[name=valid_until]", local_input(6))
    page.click("#visitor-form button")
    expect(page.locator("#visitor-rows tr", has_text="赵六")).to_contain_text("未授权")
    screenshot(page, "registry-added")
    with stack.sessions() as session:
        resident = session.scalars(select(Resident).where(Resident.name == "王五")).one()
        assert resident.compound_id == stack.places.ids["compound_a"]
        visitor = session.scalars(select(Visitor).where(Visitor.name == "赵六")).one()
        assert visitor.host_resident_id == resident.id
        assert visitor.valid_until - visitor.valid_from > timedelta(hours=5)
        assert visitor.birth_date == date(1992, 7, 1)


def test_visitor_enrolment_with_the_signed_consent_form(
    page: Page,
    stack: Stack,
    sign_in: SignIn,
    screenshot: Shot,
    t1_image_path: Path,
    tmp_path: Path,
) -> None:
    with stack.sessions() as session, session.begin():
        now = utcnow()
        visitor = Visitor(
            compound_id=stack.places.ids["compound_a"],
            host_resident_id=stack.places.ids["resident_a"],
            name="钱七",
            birth_date=date(1990, 3, 8),
            valid_from=now,
            valid_until=now + timedelta(hours=2),
        )
        session.add(visitor)
        session.flush()
        visitor_id = visitor.id
    sign_in(page, "opa")
    page.click("nav button[data-tab=residents]")
    page.select_option("#e-person", visitor_id)
    page.set_input_files("#enrol-form input[name=photos]", str(face_photo(t1_image_path, tmp_path)))
    page.check("#enrol-form input[name=signed]")
    page.click("#enrol-form button")
    expect(page.locator("#enrol-result")).to_contain_text("登记成功")
    expect(page.locator(f"#visitor-rows tr[data-person-id='{visitor_id}']")).to_contain_text(
        "已授权"
    )
    screenshot(page, "visitor-enrolled")
    with stack.sessions() as session:
        templates = select(func.count()).where(FaceTemplate.person_id == visitor_id)
        assert session.scalar(templates) == 1


def test_operator_edits_a_resident_and_a_visitors_window(
    page: Page, stack: Stack, sign_in: SignIn, screenshot: Shot
) -> None:
    compound = stack.places.ids["compound_a"]
    with stack.sessions() as session, session.begin():
        household = Household(compound_id=compound, label="2-202")
        resident = Resident(
            household_id=stack.places.ids["household_a"], compound_id=compound, name="周八"
        )
        session.add_all([household, resident])
        session.flush()
        now = utcnow()
        visitor = Visitor(
            compound_id=compound,
            host_resident_id=resident.id,
            name="吴九",
            valid_from=now,
            valid_until=now + timedelta(hours=2),
        )
        session.add(visitor)
        session.flush()
        ids = {"household": household.id, "resident": resident.id, "visitor": visitor.id}
    sign_in(page, "opa")
    page.click("nav button[data-tab=residents]")
    page.click(f"#resident-rows tr[data-person-id='{ids['resident']}'] button[data-action=edit]")
    expect(page.locator("#edit-title")).to_contain_text("编辑居民")
    page.fill("#edit-form input[name=name]", "周八八")
    page.select_option("#edit-form select[name=household]", label="2-202")
    page.fill("#edit-form input[name=phone]", "13900001111")
    page.click("#edit-form button[data-i18n=save]")
    expect(page.locator("#edit-form .result")).to_contain_text("已保存")
    expect(page.locator(f"#resident-rows tr[data-person-id='{ids['resident']}']")).to_contain_text(
        "周八八"
    )
    assert "13900001111" not in page.content()
    page.click(f"#visitor-rows tr[data-person-id='{ids['visitor']}'] button[data-action=edit]")
    expect(page.locator("#edit-form select[name=household]")).to_be_hidden()
    page.fill("#edit-form input[name=valid_until]", local_input(8))
    page.click("#edit-form button[data-i18n=save]")
    expect(page.locator("#edit-form .result")).to_contain_text("吴九")
    screenshot(page, "registry-edited")
    with stack.sessions() as session:
        edited = session.get(Resident, ids["resident"])
        assert edited is not None
        assert (edited.name, edited.household_id) == ("周八八", ids["household"])
        assert edited.phone_masked == "139****1111"
        moved = session.get(Visitor, ids["visitor"])
        assert moved is not None and moved.valid_until - moved.valid_from > timedelta(hours=7)
        newest = session.scalars(
            select(GalleryVersion)
            .where(GalleryVersion.compound_id == compound)
            .order_by(GalleryVersion.version.desc())
        ).first()
        assert newest is not None and newest.changed == [ids["visitor"]]


def test_admin_adds_an_outlet_that_joins_the_tree(
    page: Page, stack: Stack, sign_in: SignIn
) -> None:
    sign_in(page, "root")
    page.click("nav button[data-tab=residents]")
    page.select_option("#o-community", label="社区B")
    page.fill("#outlet-form input[name=name]", "枫林路驿站")
    page.click("#outlet-form button")
    expect(page.locator("#outlet-form .result")).to_contain_text("枫林路驿站")
    page.click("nav button[data-tab=overview]")
    expect(page.locator("#tree tr.site-outlet", has_text="枫林路驿站")).to_be_visible()
    with stack.sessions() as session:
        assert session.scalars(select(Outlet).where(Outlet.name == "枫林路驿站")).one()


def test_read_only_roles_see_no_write_controls(
    page: Page, stack: Stack, sign_in: SignIn, screenshot: Shot
) -> None:
    with stack.sessions() as session, session.begin():
        trigger = AlarmTrigger(
            "stale_grant", "warning", stack.places.ids["compound_a"], "roles", utcnow()
        )
        raise_alarm(session, trigger)
    sign_in(page, "viewa")
    row = page.locator("#alarm-rows tr", has_text="过期放行")
    expect(row).to_have_count(1)
    expect(row.locator("button")).to_have_count(0)
    page.click("nav button[data-tab=residents]")
    expect(page.locator("#resident-rows tr").first).to_be_visible()
    for form in ("#registry", "#enrol-form"):
        expect(page.locator(form)).to_be_hidden()
    expect(page.locator("#resident-rows button")).to_have_count(0)
    screenshot(page, "viewer-read-only")
    page.click("#logout")
    sign_in(page, "opa")
    expect(row.locator("button[data-action=acknowledge]")).to_be_visible()
    page.click("nav button[data-tab=residents]")
    expect(page.locator("#registry")).to_be_visible()
    expect(page.locator("#enrol-form")).to_be_visible()
