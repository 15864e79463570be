"""Build a gallery publisher from central's settings and secrets."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from central.core.secrets import CentralSecrets
from central.core.settings import CentralSettings
from central.gallery.messages import TemplateFormat
from central.gallery.publisher import GalleryPublisher
from central.ingest.mqtt import MqttPublisher, broker_target
from models.manifest import load_manifest
from models.zoo import FaceEngineConfig


def template_format(config: FaceEngineConfig) -> TemplateFormat:
    """The pack and embedder enrolment uses, as gates must match them."""
    return TemplateFormat(
        config.pack, config.embedder or load_manifest(config.pack).defaults.embedder
    )


def gallery_publisher(
    settings: CentralSettings, secrets: CentralSecrets, sessions: sessionmaker[Session], role: str
) -> tuple[GalleryPublisher, MqttPublisher]:
    """A publisher over its own MQTT client (``<client_id>-<role>``); close the client after."""
    target = broker_target(settings.mqtt, f"{settings.mqtt.client_id}-{role}")
    client = MqttPublisher(target, target.client_id)
    publisher = GalleryPublisher(
        sessions, client.publish, secrets.signing_key, template_format(settings.face_engine)
    )
    return publisher, client
