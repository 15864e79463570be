"""Central's settings: one YAML section ``central``, with ``DATABASE_URL`` overriding the URL."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from central.ingest.config import IngestConfig
from central.reports.schedule import ReportScheduleConfig
from central.rules.config import RulesConfig
from central.web.evidence import EvidenceSources
from edge.contract.topics import MqttProtocol
from models.config_file import load_config
from models.zoo import FaceEngineConfig

SECTION = "central"
MQTT5_INGEST_KEYS = {"receive_maximum", "session_expiry_s", "retire_on_stop"}


class CentralMqttConfig(BaseModel):
    """How central reaches the broker, and the broker's authentication files it writes."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="Broker host.")
    port: int = Field(default=1883, ge=1, le=65535, description="Broker port.")
    protocol: MqttProtocol = Field(
        default="5", description='MQTT version: "5", or "3.1.1" (one ingest worker, no $share).'
    )
    username: str | None = Field(default=None, description="Central's MQTT user; none: anonymous.")
    password_file: Path | None = Field(default=None, description="File holding that password.")
    tls: bool = Field(default=False, description="Connect with TLS.")
    ca_file: Path | None = Field(
        default=None, description="CA bundle for TLS; system CAs if unset."
    )
    client_id: str = Field(default="anju-central", description="MQTT client id of this worker.")
    shared_group: str = Field(
        default="central", description="Shared-subscription group name (MQTT 5)."
    )
    passwd_path: Path | None = Field(
        default=None, description="Mosquitto password file rewritten when devices change."
    )
    acl_path: Path | None = Field(
        default=None, description="Mosquitto ACL file rewritten when devices change."
    )

    @model_validator(mode="after")
    def _shared_group_needs_mqtt5(self) -> CentralMqttConfig:
        if self.protocol == "3.1.1" and "shared_group" in self.model_fields_set:
            raise ValueError(
                "shared_group needs protocol 5: several ingest workers share the events through "
                "an MQTT 5 shared subscription; over 3.1.1 remove shared_group and run one worker"
            )
        return self


class CentralSettings(BaseModel):
    """Everything central needs at start-up; unknown keys are refused, naming the key."""

    model_config = ConfigDict(extra="forbid")

    database_url: str = Field(
        default="sqlite:///./anju-central.db", description="SQLAlchemy URL; env DATABASE_URL wins."
    )
    mqtt: CentralMqttConfig = Field(default_factory=CentralMqttConfig)
    signing_key_file: Path = Field(
        default=Path("anju-central-signing.key"),
        description="Central's Ed25519 private key; generated on first start if missing.",
    )
    at_rest_key_file: Path = Field(
        default=Path("anju-central-at-rest.key"),
        description="32-byte key sealing templates, gallery keys and ID hashes; made if missing.",
    )
    jwt_secret_file: Path = Field(
        default=Path("anju-central-jwt.secret"),
        description="HS256 secret for access tokens; generated on first start if missing.",
    )
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    login_failures_per_minute: int = Field(
        default=5, ge=1, description="Failed logins per username and address before HTTP 429."
    )
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    reports: ReportScheduleConfig = Field(
        default_factory=ReportScheduleConfig, description="Daily/weekly/monthly reports."
    )
    evidence: EvidenceSources = Field(
        default_factory=EvidenceSources, description="Edge evidence endpoints by device id."
    )
    face_engine: FaceEngineConfig = Field(
        default_factory=FaceEngineConfig, description="Enrolment's engine; gates must match it."
    )
    keep_enrolment_photos: bool = Field(
        default=False, description="Keep enrolment photos (in photo_dir); off by default."
    )
    photo_dir: Path = Field(default=Path("anju-central-photos"))
    max_photo_bytes: int = Field(default=8_000_000, ge=1, description="Largest photo accepted.")

    @model_validator(mode="after")
    def _session_settings_need_mqtt5(self) -> CentralSettings:
        unsupported = MQTT5_INGEST_KEYS & self.ingest.model_fields_set
        if self.mqtt.protocol == "3.1.1" and unsupported:
            keys = ", ".join(f"ingest.{key}" for key in sorted(unsupported))
            raise ValueError(f"{keys}: MQTT 5 only, not with mqtt.protocol 3.1.1")
        return self


def load_settings(path: Path | None) -> CentralSettings:
    """Settings from the ``central`` section of ``path`` (defaults if None), env applied."""
    settings = load_config(path, CentralSettings, SECTION) if path else CentralSettings()
    url = os.environ.get("DATABASE_URL")
    return settings.model_copy(update={"database_url": url}) if url else settings
