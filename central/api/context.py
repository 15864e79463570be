"""What every request needs, built once by ``create_app`` and kept on ``app.state.ctx``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from central.core.secrets import CentralSecrets
from central.core.settings import CentralSettings
from central.enrol.service import Enroller
from central.feeds.bus import EventBus
from central.security.ratelimit import LoginLimiter


@dataclass(frozen=True)
class CentralContext:
    """Settings, secrets, sessions and the shared services of one central process."""

    settings: CentralSettings
    secrets: CentralSecrets
    sessions: sessionmaker[Session]
    enroller: Enroller
    bus: EventBus
    limiter: LoginLimiter
