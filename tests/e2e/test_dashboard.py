"""The dashboard in Chromium against the running stack: sign-in, live alarms over MQTT, alarm
handling, role scoping, the language switch and enrolment refused without consent."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from central.db.base import utcnow
from central.db.events_models import Alarm
from central.db.privacy_models import FaceTemplate
from edge.contract import AccessDecision, ParcelInspection
from tests.e2e.conftest import ARTIFACTS, UNKNOWN_FACE_ATTEMPTS, Stack
from tests.e2e.stack import api_token, publish

SignIn = Callable[[Page, str], None]
Shot = Callable[[Page, str], None]


def test_sign_in_refuses_a_wrong_password_then_shows_the_tree(
    page: Page, stack: Stack, sign_in: SignIn, screenshot: Shot
) -> None:
    page.goto(f"{stack.base}/dashboard/")
    expect(page.locator("h1")).to_have_text("安居 · 综治指挥中心")
    page.fill("#username", "opa")
    page.fill("#password", "wrong password")
    page.click("#login-form button")
    expect(page.locator("#login-error")).to_contain_text("登录失败")
    screenshot(page, "login-refused")
    sign_in(page, "opa")
    expect(page.locator("#who")).to_have_text("opa · operator")
    expect(page.locator("#tree")).to_contain_text(stack.places.names["compound_a"])
    assert page.evaluate("sessionStorage.getItem('anju.token')")


def test_alarm_published_over_mqtt_appears_and_is_acknowledged(
    page: Page, stack: Stack, sign_in: SignIn, screenshot: Shot
) -> None:
    sign_in(page, "opa")
    rows = page.locator("#alarm-rows tr", has_text="陌生人反复尝试")
    expect(rows).to_have_count(0)
    decision = AccessDecision(
        gate_id=stack.places.ids["gate_a"],
        decision="unknown",
        reason="no_match",
        method="face",
        track_id="t-1",
    )
    started = time.monotonic()
    publish(stack.broker_port, stack.gate, [decision] * UNKNOWN_FACE_ATTEMPTS)
    expect(rows).to_have_count(1)
    latency_s = time.monotonic() - started
    (ARTIFACTS / "alarm-latency.txt").write_text(f"publish_to_row_s={latency_s:.3f}\n")
    expect(rows.locator("td.state")).to_have_text("未处理")
    screenshot(page, "alarm-live")
    rows.locator("button[data-action=acknowledge]").click()
    expect(rows.locator("td.state")).to_have_text("已确认")
    alarm_id = int(rows.get_attribute("data-alarm-id") or 0)
    with stack.sessions() as session:
        alarm = session.get(Alarm, alarm_id)
        assert alarm is not None and alarm.state == "acknowledged"
    page.once("dialog", lambda dialog: dialog.accept("门岗已核查"))
    rows.locator("button[data-action=comment]").click()
    page.once("dialog", lambda dialog: dialog.accept("误报"))
    rows.locator("button[data-action=clear]").click()
    expect(rows.locator("td.state")).to_have_text("已解除")
    page.select_option("#f-state", "active")
    expect(rows).to_have_count(0)
    with stack.sessions() as session:
        alarm = session.get(Alarm, alarm_id)
        assert alarm is not None and alarm.state == "cleared"
        assert "门岗已核查" in [c.text for c in alarm.comments]


def test_an_operator_does_not_see_other_streets(
    page: Page, stack: Stack, sign_in: SignIn, screenshot: Shot
) -> None:
    names = stack.places.names
    sign_in(page, "opa")
    expect(page.locator("#tree")).to_contain_text(names["compound_a"])
    expect(page.locator("#tree")).not_to_contain_text(names["compound_b"])
    expect(page.locator("#tree")).not_to_contain_text("街道B")
    expect(page.locator("#alarm-rows")).not_to_contain_text("频繁拒绝")
    screenshot(page, "scoped-street-a")
    page.click("#logout")
    sign_in(page, "root")
    expect(page.locator("#tree")).to_contain_text(names["compound_b"])
    expect(page.locator("#alarm-rows")).to_contain_text("频繁拒绝")
    page.select_option("#f-place", stack.places.ids["compound_a"])
    expect(page.locator("#alarm-rows")).not_to_contain_text("频繁拒绝")
    screenshot(page, "overview-root")
    page.set_viewport_size({"width": 1024, "height": 1366})
    screenshot(page, "overview-tablet")


def test_language_switch_translates_and_is_remembered(
    page: Page, stack: Stack, sign_in: SignIn, screenshot: Shot
) -> None:
    sign_in(page, "opa")
    expect(page.locator("nav button[data-tab=devices]")).to_have_text("设备状态")
    page.select_option("#lang", "en")
    expect(page.locator("h1")).to_have_text("Anju · Governance Centre")
    expect(page.locator("nav button[data-tab=devices]")).to_have_text("Device health")
    page.click("nav button[data-tab=devices]")
    expect(page.locator("#device-rows")).to_contain_text(stack.gate.id)
    screenshot(page, "devices-english")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Anju · Governance Centre")
    page.select_option("#lang", "zh")
    expect(page.locator("h1")).to_have_text("安居 · 综治指挥中心")


def jpeg(folder: Path) -> Path:
    """A small photo to upload."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (180, 150, 120)).save(buffer, format="JPEG")
    path = folder / "face.jpg"
    path.write_bytes(buffer.getvalue())
    return path


def test_enrolment_without_consent_is_refused_and_shown(
    page: Page, stack: Stack, sign_in: SignIn, screenshot: Shot, tmp_path: Path
) -> None:
    resident = stack.places.ids["resident_a"]
    sign_in(page, "opa")
    page.click("nav button[data-tab=residents]")
    row = page.locator(f"#resident-rows tr[data-person-id='{resident}']")
    expect(row).to_contain_text("未授权")
    expect(page.locator("#visitor-rows tr", has_text="李四")).to_contain_text("未授权")
    page.select_option("#e-person", resident)
    page.set_input_files("#enrol-form input[name=photos]", str(jpeg(tmp_path)))
    expect(page.locator("#enrol-form input[name=signed]")).not_to_be_checked()
    page.click("#enrol-form button")
    expect(page.locator("#enrol-result")).to_contain_text("已拒绝")
    expect(page.locator("#enrol-result")).to_contain_text("no consent on record")
    expect(row).to_contain_text("未授权")
    screenshot(page, "enrolment-refused")
    with stack.sessions() as session:
        templates = select(func.count()).where(FaceTemplate.person_id == resident)
        assert session.scalar(templates) == 0


def test_tree_rolls_up_entries_and_parcel_rates(stack: Stack) -> None:
    ids = stack.places.ids
    granted = AccessDecision(
        gate_id=ids["gate_a"], decision="granted", reason="match", method="card"
    )
    parcel = ParcelInspection(
        outlet_id=ids["outlet_a"],
        desk_id="desk-1",
        parcel_session_id="p-1",
        sender_status="verified",
        sender_id_hash="ab" * 32,
        opened=True,
        inspection_s=4.0,
        xray_passed=False,
        started_at=utcnow(),
        ended_at=utcnow(),
    )
    publish(stack.broker_port, stack.gate, [granted, granted])
    publish(stack.broker_port, stack.outlet, [parcel])
    headers = {"Authorization": f"Bearer {api_token(stack.base, 'opa')}"}
    deadline = time.monotonic() + 10
    while True:
        tree = httpx.get(f"{stack.base}/api/dashboard/tree", headers=headers).json()
        street = next(n for n in tree["nodes"] if n["id"] == ids["street_a"])
        if street["counts"].get("entries") == 2 and street["counts"].get("parcels") == 1:
            break
        assert time.monotonic() < deadline, f"roll-up never reached: {street}"
        time.sleep(0.1)
    assert street["rates"] == {"real_name": 1.0, "opened": 1.0, "xray": 0.0}
    assert [n["level"] for n in tree["nodes"]] == ["street", "community"]
    assert {s["id"] for s in tree["sites"]} == {ids["compound_a"], ids["outlet_a"]}
    hourly = httpx.get(f"{stack.base}/api/dashboard/hourly", headers=headers).json()
    assert sum(hourly[ids["compound_a"]]) == 2


def test_provisioning_shows_credentials_once(
    page: Page, stack: Stack, sign_in: SignIn, screenshot: Shot
) -> None:
    sign_in(page, "opa")
    page.click("nav button[data-tab=devices]")
    expect(page.locator("#device-rows tr").first).to_be_visible()
    expect(page.locator("#provision-form")).to_be_hidden()
    page.click("#logout")
    sign_in(page, "root")
    page.click("nav button[data-tab=devices]")
    page.select_option("#p-site", stack.places.ids["compound_b"])
    expect(page.locator("#p-gate option")).to_have_count(1)
    page.click("#provision-form button")
    expect(page.locator("#p-once")).to_contain_text("仅显示这一次")
    shown = json.loads(page.locator("#p-secrets").inner_text())
    assert shown["private_key"] and shown["mqtt_password"]
    expect(page.locator("#device-rows")).to_contain_text(shown["device_id"])
    screenshot(page, "provisioned")
    page.reload()
    page.click("nav button[data-tab=devices]")
    expect(page.locator("#device-rows")).to_contain_text(shown["device_id"])
    expect(page.locator("#p-secrets")).to_be_empty()
    assert shown["mqtt_password"] not in page.content()
