"""The live stream (SSE over a real server, scoped per user), Prometheus metrics, OpenAPI docs."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from central.feeds.bus import EventBus
from tests.central.api.conftest import Central
from tests.central.api.world import World, bearer
from tests.support.services import free_port

TIMEOUT_S = 10.0


@pytest.fixture(scope="module")
def server_url(central: Central) -> Iterator[str]:
    """The app served by uvicorn on a free port, in a thread."""
    port = free_port()
    config = uvicorn.Config(central.app, port=port, log_config=None, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT_S
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(TIMEOUT_S)


def _wait_for_subscriber(central: Central) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while central.app.state.bus.subscriber_count == 0:
        assert time.monotonic() < deadline, "stream never subscribed"
        time.sleep(0.02)


def test_stream_sends_only_the_users_sites(central: Central, world: World, server_url: str) -> None:
    a, b = world.ids["a"]["compound_id"], world.ids["b"]["compound_id"]
    url = f"{server_url}/api/stream?token={world.tokens['viewer_a']}"
    with httpx.Client(timeout=TIMEOUT_S) as client, client.stream("GET", url) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        lines = reply.iter_lines()
        assert next(lines) == ": connected"
        _wait_for_subscriber(central)
        bus = central.app.state.bus
        publisher = threading.Thread(
            target=lambda: [
                bus.publish("event", {"site_id": b, "n": 1}),
                bus.publish("event", {"site_id": a, "n": 2}),
                bus.publish("alarm", {"site_id": b, "n": 3}),
                bus.publish("alarm", {"site_id": a, "n": 4}),
            ]
        )
        publisher.start()
        publisher.join()
        frames = [line for line in (next(lines) for _ in range(6)) if line]
    assert frames == [
        "event: event",
        f"data: {json.dumps({'site_id': a, 'n': 2})}",
        "event: alarm",
        f"data: {json.dumps({'site_id': a, 'n': 4})}",
    ]


def test_stream_refuses_bad_tokens(central: Central, server_url: str) -> None:
    with httpx.Client(timeout=TIMEOUT_S) as client:
        assert client.get(f"{server_url}/api/stream").status_code == 401
        assert client.get(f"{server_url}/api/stream?token=forged").status_code == 401


def test_metrics_count_requests_by_route(central: Central, world: World) -> None:
    resident = world.ids["a"]["resident_id"]
    central.client.get(f"/api/residents/{resident}", headers=bearer(world.tokens["viewer_a"]))
    text = central.client.get("/metrics").text
    assert 'route="/api/residents/{resident_id}"' in text
    assert "anju_central_http_requests_total" in text


def test_openapi_docs_are_served(central: Central) -> None:
    assert central.client.get("/docs").status_code == 200
    assert "/api/persons/{person_id}/enrol" in central.client.get("/openapi.json").json()["paths"]


def test_slow_subscriber_loses_oldest_items_not_newest() -> None:
    async def scenario() -> list[int]:
        bus = EventBus(capacity=3)
        items = bus.subscribe()
        first = asyncio.ensure_future(anext(items))
        await asyncio.sleep(0)
        publisher = threading.Thread(
            target=lambda: [bus.publish("event", {"n": n}) for n in range(8)]
        )
        publisher.start()
        publisher.join()
        received = [(await first)[1]["n"]]
        for _ in range(2):
            received.append((await asyncio.wait_for(anext(items), TIMEOUT_S))[1]["n"])
        await items.aclose()
        assert bus.subscriber_count == 0
        return received

    assert asyncio.run(scenario()) == [5, 6, 7]
