"""Evidence pulled from the node through central: shown in the page, audited, role-limited."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select

from central.db.auth_models import AuditEntry
from edge.contract import AccessDecision
from tests.e2e.conftest import Stack
from tests.e2e.stack import api_token, publish

SignIn = Callable[[Page, str], None]
Shot = Callable[[Page, str], None]


def wait_for_evidence_event(stack: Stack, timeout_s: float = 10.0) -> None:
    """Poll the event search until the decision naming the evidence is stored."""
    headers = {"Authorization": f"Bearer {api_token(stack.base, 'opa')}"}
    deadline = time.monotonic() + timeout_s
    while (
        stack.evidence_id
        not in httpx.get(f"{stack.base}/api/dashboard/events", headers=headers).text
    ):
        assert time.monotonic() < deadline, "the event with evidence was not stored"
        time.sleep(0.1)


def test_evidence_is_pulled_from_the_node_and_audited(
    page: Page, stack: Stack, sign_in: SignIn, screenshot: Shot
) -> None:
    decision = AccessDecision(
        gate_id=stack.places.ids["gate_a"],
        decision="denied",
        reason="no_match",
        method="face",
        evidence_ids=[stack.evidence_id],
    )
    publish(stack.broker_port, stack.gate, [decision])
    wait_for_evidence_event(stack)
    sign_in(page, "opa")
    page.click("nav button[data-tab=events]")
    page.click("#event-form button")
    button = page.locator(f"button[data-evidence-id='{stack.evidence_id}']")
    button.first.click()
    image = page.locator("#evidence img")
    expect(image).to_be_visible()
    assert page.evaluate("document.querySelector('#evidence img').naturalWidth") == 160
    screenshot(page, "evidence")
    with stack.sessions() as session:
        views = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "evidence.view", AuditEntry.actor == "opa"
            )
        ).all()
    assert [v.detail["evidence_id"] for v in views] == [stack.evidence_id]


def test_evidence_is_refused_to_viewers_other_streets_and_unknown_ids(stack: Stack) -> None:
    url = f"{stack.base}/api/dashboard/evidence/{stack.gate.id}"
    query = {"evidence_id": stack.evidence_id}

    def status(username: str, params: dict[str, str]) -> int:
        headers = {"Authorization": f"Bearer {api_token(stack.base, username)}"}
        return httpx.get(url, params=params, headers=headers).status_code

    assert status("viewa", query) == 403
    assert status("opb", query) == 404
    assert status("opa", {"evidence_id": "0" * 32}) == 404
    assert status("opa", {"evidence_id": "../../etc/passwd"}) == 422
    assert httpx.get(url, params=query).status_code == 401
