"""Alarm details in the page's language: the dashboard words an alarm from its type and
parameters, and shows the server's English text for alarms that carry none."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from playwright.sync_api import Page, expect

from central.alarms.lifecycle import raise_alarm
from central.db.base import utcnow
from central.registry.queries import PersonWindow
from central.rules.config import StaleGrantRule
from central.rules.correlate import AlarmTrigger, stale_grant
from edge.contract import AccessDecision, Envelope
from tests.e2e.conftest import Stack

SignIn = Callable[[Page, str], None]
Shot = Callable[[Page, str], None]


def test_alarm_details_follow_the_language(
    page: Page, stack: Stack, sign_in: SignIn, screenshot: Shot
) -> None:
    # Street b's compound: other tests count street a's stale-grant alarms.
    compound = stack.places.ids["compound_b"]
    now = utcnow()
    decision = AccessDecision.model_validate(
        {
            "gate_id": "east",
            "decision": "granted",
            "reason": "r",
            "method": "card",
            "person_id": "vis-words",
        }
    )
    grant = Envelope(site_id=compound, device_id="gate-w", occurred_at=now, payload=decision)
    ended = PersonWindow(
        "vis-words", "visitor", compound, now - timedelta(hours=3), now - timedelta(hours=1), True
    )
    worded = stale_grant(grant, ended, StaleGrantRule())
    assert worded is not None
    plain = AlarmTrigger("stale_grant", "warning", compound, "plain", now, "legacy english text")
    with stack.sessions() as session, session.begin():
        raise_alarm(session, worded)
        raise_alarm(session, plain)
    sign_in(page, "root")
    row = page.locator("#alarm-rows tr", has_text="vis-words")
    expect(row).to_contain_text("vis-words 经 east 以门卡通行")
    expect(row).to_contain_text("通行时段已于")
    expect(row).not_to_contain_text("admitted")
    expect(page.locator("#alarm-rows tr", has_text="legacy english text")).to_have_count(1)
    screenshot(page, "alarm-words-zh")
    page.select_option("#lang", "en")
    expect(row).to_contain_text("vis-words admitted at east by card: window ended")
    expect(row).to_contain_text("Stale grant")
