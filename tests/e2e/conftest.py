"""Fixtures for the browser tests: the running stack (central, ingest, broker) and Chromium."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from central.api.app import build_context, create_app
from central.core.secrets import load_secrets
from central.core.settings import CentralMqttConfig, CentralSettings
from central.db.migrate import upgrade
from central.db.session import make_engine, make_session_factory
from central.ingest.runtime import build_ingest
from central.rules.config import RulesConfig, UnknownFaceRule
from central.web.evidence import EvidenceSources
from models.zoo import FaceEngineConfig
from tests.e2e.stack import (
    PASSWORD,
    Device,
    Places,
    ServerThread,
    api_token,
    build_places,
    evidence_node,
    provision,
)
from tests.support.services import free_port, private_mosquitto, unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
UNKNOWN_FACE_ATTEMPTS = 3


@dataclass
class Stack:
    """The served dashboard and what the tests reach into."""

    base: str
    broker_port: int
    sessions: sessionmaker[Session]
    places: Places
    gate: Device
    outlet: Device
    evidence_id: str


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[Stack]:
    """Central on a fresh SQLite database with ingest on a private broker, served by uvicorn."""
    folder = tmp_path_factory.mktemp("e2e")
    with private_mosquitto(folder / "broker") as broker:
        settings = CentralSettings(
            database_url=f"sqlite:///{folder}/central.db",
            signing_key_file=folder / "signing.key",
            at_rest_key_file=folder / "at-rest.key",
            jwt_secret_file=folder / "jwt.secret",
            mqtt=CentralMqttConfig(port=broker.port, client_id=f"e2e-{uuid.uuid4().hex[:8]}"),
            rules=RulesConfig(unknown_face=UnknownFaceRule(attempts=UNKNOWN_FACE_ATTEMPTS)),
            face_engine=FaceEngineConfig(model_dir=model_dir),
        )
        engine = make_engine(settings.database_url)
        upgrade(engine)
        sessions = make_session_factory(engine, load_secrets(settings).at_rest_key)
        places = build_places(sessions)
        context = build_context(settings, sessions=sessions)
        runtime = build_ingest(settings, context.secrets, sessions, sink=context.bus)
        app = create_app(settings, context)
        server = ServerThread(app, free_port())
        server.start()
        runtime.start()
        base = f"http://127.0.0.1:{server.server.config.port}"
        root = api_token(base, "root")
        gate = provision(base, root, {"kind": "gate", "gate_id": places.ids["gate_a"]})
        outlet = provision(base, root, {"kind": "outlet", "outlet_id": places.ids["outlet_a"]})
        try:
            with evidence_node(folder) as (source, evidence_id):
                app.state.evidence_sources = EvidenceSources(devices={gate.id: source})
                yield Stack(base, broker.port, sessions, places, gate, outlet, evidence_id)
        finally:
            server.stop()
            runtime.stop()
            engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright; per module, because Playwright's sync
    API holds an event loop on the main thread that later ``asyncio.run`` tests would trip on."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh 1920x1080 tab (empty storage); a screenshot is kept and uncaught page errors fail."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}-end.png"), full_page=True)
    context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


@pytest.fixture
def sign_in(stack: Stack) -> Callable[[Page, str], None]:
    """Open the dashboard and sign in as ``username``; waits until the live stream is up."""

    def go(tab: Page, username: str) -> None:
        tab.goto(f"{stack.base}/dashboard/")
        tab.fill("#username", username)
        tab.fill("#password", PASSWORD)
        tab.click("#login-form button")
        expect(tab.locator("#main")).to_be_visible()
        expect(tab.locator("#live")).to_have_class("live")

    return go


@pytest.fixture
def screenshot() -> Callable[[Page, str], None]:
    """Save a named screenshot of a tab under artifacts/e2e/."""

    def save(tab: Page, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    return save
