"""`make demo` end to end: broker, central, a gate and an outlet node on the sample videos.

One demo run per broker, Mosquitto (MQTT 5) and the embedded amqtt (MQTT 3.1.1), about a minute
each on 2 cores: the events must reach central's API, the gate must apply the gallery, and
Ctrl-C must stop every process the demo started.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.demo.helpers import RunningDemo, poll, processes_mentioning

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]
FLOW_TIMEOUT_S = 120.0
PROTOCOLS = {"mosquitto": "5", "embedded": "3.1.1"}


def _events(demo: RunningDemo, site_id: str, kind: str) -> list[dict[str, Any]]:
    params: dict[str, str | int] = {"site_id": site_id, "kind": kind, "limit": 500}
    response = demo.api.get("/api/dashboard/events", params=params).raise_for_status()
    events: list[dict[str, Any]] = response.json()
    return events


def test_runs_the_broker_asked_for(demo: RunningDemo) -> None:
    assert demo.state["broker"]["kind"] == demo.broker
    assert demo.state["broker"]["protocol"] == PROTOCOLS[demo.broker]
    assert f"step=broker kind={demo.broker}" in demo.log_path.read_text()


def test_printed_url_serves_a_page(demo: RunningDemo) -> None:
    response = demo.api.get(demo.state["dashboard"]).raise_for_status()
    assert "text/html" in response.headers["content-type"]


def test_gate_applies_the_gallery(demo: RunningDemo) -> None:
    state = demo.state
    response = demo.api.get(f"/api/gallery/{state['compound_id']}/gates").raise_for_status()
    gates = {g["device_id"]: g for g in response.json()}
    gate = gates[state["gate_device_id"]]
    assert gate["applied_version"] == gate["current_version"] >= 1
    assert not gate["lagging"]


@pytest.mark.parametrize(
    ("method", "decisions", "enrolled"),
    [
        ("face", {"granted"}, True),  # a resident walks up
        ("face", {"denied", "unknown"}, False),  # a face of the photo that was never enrolled
        ("qr", {"granted"}, False),  # the visitor's pass typed on the gate's reader
    ],
)
def test_access_decisions_are_stored(
    demo: RunningDemo, method: str, decisions: set[str], enrolled: bool
) -> None:
    residents = set(demo.state["residents"].values())

    def matching() -> dict[str, Any] | None:
        for event in _events(demo, demo.state["compound_id"], "access.decision"):
            person = event["payload"].get("person_id")
            if (
                event["method"] == method
                and event["decision"] in decisions
                and (person in residents) == enrolled
            ):
                return event
        return None

    event = poll(matching, f"a {method} decision in {decisions}", FLOW_TIMEOUT_S, demo)
    assert event["device_id"] == demo.state["gate_device_id"]
    assert event["gate_id"] == demo.state["gate_id"]


def test_parcel_inspection_is_stored(demo: RunningDemo) -> None:
    def inspection() -> dict[str, Any] | None:
        found = _events(demo, demo.state["outlet_id"], "parcel.inspection")
        return found[0] if found else None

    event = poll(inspection, "a parcel.inspection event", FLOW_TIMEOUT_S, demo)
    assert event["device_id"] == demo.state["outlet_device_id"]
    assert event["payload"]["outlet_id"] == demo.state["outlet_id"]


def test_sigint_stops_every_child(demo: RunningDemo) -> None:
    assert demo.interrupt() == 0
    for name, pid in demo.state["pids"].items():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # the child is gone (and was reaped): no orphan, no zombie
        assert name in {"mosquitto", "amqtt", "central", "gate", "outlet"}
    assert processes_mentioning(str(demo.workdir)) == []
    assert "step=stopped" in demo.log_path.read_text()
