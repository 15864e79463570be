"""The broker stopped for 60 s and restarted on its persistence folder while devices produce
50 events/s: every journalled event must be stored exactly once.

Mosquitto 2.0 does not restore central's shared subscription (``$share/central/...``) from its
persistence file: until the ingest worker subscribes again, the restarted broker answers re-sent
events with PUBACK reason 16 "No matching subscribers". The edge keeps such events in its outbox
and resends them (this test failed when it took reason 16 as delivered).
"""

from __future__ import annotations

import contextlib
import subprocess

import pytest

from scripts.faults.broker_outage import Outage, run_broker_outage
from scripts.faults.stack import Stack, stop

DEVICE_ALONE_S = 8.0


def test_sixty_second_broker_outage_loses_nothing(stack: Stack) -> None:
    outage = Outage(
        rate_per_s=50.0, before_s=5.0, outage_s=60.0, after_s=5.0, settle_timeout_s=90.0
    )
    report = run_broker_outage(stack, outage)
    print(report.format())
    assert report.verdict.totals.published >= 50 * 60 * 0.9, "devices kept producing"
    assert report.problems == []
    assert report.verdict.ok, f"{report.verdict.totals.lost} lost"


@pytest.mark.parametrize(
    "restart_broker",
    [
        pytest.param(False, id="same-broker"),
        pytest.param(True, id="restarted-broker"),
    ],
)
def test_events_sent_while_central_is_away_are_stored_when_it_returns(
    stack: Stack, restart_broker: bool
) -> None:
    stop(stack.start_ingest())  # central subscribed once, then away; its session stays
    if restart_broker:
        stack.broker.stop()
        stack.broker.start()
    device = stack.start_device(stack.devices[0], rate=20.0, duration_s=1.0)
    with contextlib.suppress(subprocess.TimeoutExpired):
        device.process.wait(DEVICE_ALONE_S)  # publishes, and sends while central is away
    stack.start_ingest()
    assert device.process.wait(60) == 0, "the device drained its outbox"
    verdict = stack.settle(timeout_s=20.0)
    print(verdict.format_table())
    assert verdict.totals.published > 0
    assert verdict.ok, f"{verdict.totals.lost} of {verdict.totals.published} lost"
