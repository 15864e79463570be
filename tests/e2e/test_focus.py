"""Clicking a hierarchy node filters alarms, events and charts; per-outlet compliance over the
last days; the page renews its token before expiry so a control-room screen stays signed in."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from central.db.auth_models import AuditEntry
from central.db.events_models import Event
from edge.contract import AccessDecision
from tests.e2e.conftest import Stack
from tests.e2e.stack import publish

SignIn = Callable[[Page, str], None]
Shot = Callable[[Page, str], None]
WAIT_S = 10.0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until true, failing after ``WAIT_S``."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.1)


def gate_events(stack: Stack) -> int:
    """How many events the gate of compound a has stored."""
    with stack.sessions() as session:
        query = select(func.count()).where(Event.device_id == stack.gate.id)
        return int(session.scalar(query) or 0)


def test_clicking_a_node_filters_alarms_events_and_charts(
    page: Page, stack: Stack, sign_in: SignIn, screenshot: Shot
) -> None:
    ids = stack.places.ids
    before = gate_events(stack)
    denied = AccessDecision(
        gate_id=ids["gate_a"], decision="denied", reason="no_match", method="card"
    )
    publish(stack.broker_port, stack.gate, [denied])
    wait_for(lambda: gate_events(stack) > before, "the gate's event stored")
    sign_in(page, "root")
    alarms = page.locator("#alarm-rows")
    expect(alarms).to_contain_text("频繁拒绝")
    page.click(f"#tree tr[data-node-id='{ids['street_a']}']")
    expect(page.locator("#focus")).to_contain_text("街道A")
    expect(page.locator(f"#tree tr[data-node-id='{ids['street_a']}']")).to_have_class(
        "level-street focused"
    )
    expect(alarms).not_to_contain_text("频繁拒绝")
    screenshot(page, "focus-street-a")
    page.click("nav button[data-tab=events]")
    page.click("#event-form button")
    expect(page.locator("#event-rows")).to_contain_text(stack.gate.id)
    page.click("nav button[data-tab=charts]")
    compliance = page.locator("#chart-compliance")
    expect(compliance).to_contain_text(f"{stack.places.names['outlet_a']} · 实名率")
    screenshot(page, "compliance-street-a")
    page.click("nav button[data-tab=overview]")
    page.click(f"#tree tr[data-node-id='{ids['street_b']}']")
    expect(page.locator("#focus")).to_contain_text("街道B")
    expect(alarms).to_contain_text("频繁拒绝")
    page.click("nav button[data-tab=events]")
    page.click("#event-form button")
    expect(page.locator("#event-rows")).not_to_contain_text(stack.gate.id)
    page.click("nav button[data-tab=charts]")
    expect(compliance).not_to_contain_text(stack.places.names["outlet_a"])
    page.click("#focus-clear")
    expect(page.locator("#focus")).to_be_hidden()
    expect(compliance).to_contain_text(stack.places.names["outlet_a"])


def test_compliance_chart_shows_the_last_seven_days(
    page: Page, stack: Stack, sign_in: SignIn, screenshot: Shot
) -> None:
    sign_in(page, "opa")
    page.click("nav button[data-tab=charts]")
    compliance = page.locator("#chart-compliance")
    expect(compliance).to_contain_text("近7日")
    for rate in ("实名率", "开箱率", "过机率"):
        expect(compliance).to_contain_text(f"{stack.places.names['outlet_a']} · {rate}")
    points = page.evaluate(
        "document.getElementById('chart-compliance').data.map((trace) => trace.x.length)"
    )
    assert points and set(points) == {7}
    screenshot(page, "compliance-7-days")


def refreshes(stack: Stack, username: str) -> int:
    """How many token refreshes ``username`` has made (audited)."""
    with stack.sessions() as session:
        query = select(func.count()).where(
            AuditEntry.action == "auth.refresh", AuditEntry.actor == username
        )
        return int(session.scalar(query) or 0)


def test_page_renews_its_token_before_expiry(page: Page, stack: Stack, sign_in: SignIn) -> None:
    page.clock.install()
    sign_in(page, "viewb")
    assert refreshes(stack, "viewb") == 0
    page.clock.fast_forward("14:00")
    wait_for(lambda: refreshes(stack, "viewb") == 1, "the page refreshed its token")
    expect(page.locator("#main")).to_be_visible()
    token = page.evaluate("sessionStorage.getItem('anju.token')")
    me = httpx.get(f"{stack.base}/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "viewb"
