"""Transport configuration: the MQTT connection and the event outbox (pydantic, extra="forbid")."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge.contract.topics import MqttProtocol


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsConfig(_Section):
    """TLS towards the broker; a client certificate authenticates the device when given."""

    ca_file: Path | None = Field(default=None, description="CA bundle; None: system CAs.")
    cert_file: Path | None = Field(default=None, description="Client certificate (PEM).")
    key_file: Path | None = Field(default=None, description="Client private key (PEM).")
    insecure: bool = Field(default=False, description="Skip hostname checks (tests only).")

    @model_validator(mode="after")
    def _cert_with_key(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self


class MqttConfig(_Section):
    """How the node reaches the broker."""

    host: str = Field(default="127.0.0.1", description="Broker host name or address.")
    port: int = Field(default=1883, ge=1, le=65535, description="Broker port (8883 for TLS).")
    protocol: MqttProtocol = Field(default="5", description='MQTT version: "5" or "3.1.1".')
    client_id: str | None = Field(default=None, description="MQTT client id; None: device id.")
    username: str | None = Field(default=None, description="User name, if the broker wants one.")
    password_file: Path | None = Field(default=None, description="File holding the password.")
    tls: TlsConfig | None = Field(default=None, description="TLS settings; None: plain TCP.")
    keepalive_s: int = Field(default=30, ge=5, le=3600, description="MQTT keep-alive.")
    session_expiry_s: int = Field(
        default=7 * 24 * 3600,
        ge=0,
        description="How long the broker keeps the session offline (MQTT 5 only).",
    )
    reconnect_min_s: float = Field(default=0.5, gt=0, description="First reconnect delay.")
    reconnect_max_s: float = Field(default=60.0, gt=0, description="Longest reconnect delay.")
    stable_after_s: float = Field(
        default=30.0,
        gt=0,
        description="A connection up this long resets the reconnect delay to reconnect_min_s; "
        "one dropped sooner keeps backing off (no flapping).",
    )
    ack_timeout_s: float = Field(default=10.0, gt=0, description="Wait for a PUBACK this long.")

    @model_validator(mode="after")
    def _backoff_order(self) -> MqttConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be >= reconnect_min_s")
        return self

    @model_validator(mode="after")
    def _expiry_needs_mqtt5(self) -> MqttConfig:
        if self.protocol == "3.1.1" and "session_expiry_s" in self.model_fields_set:
            raise ValueError(
                "session_expiry_s needs protocol 5 (MQTT 3.1.1 has no session expiry: "
                "the broker decides how long it keeps the session)"
            )
        return self


class OutboxConfig(_Section):
    """The SQLite outbox every event is written to before it is sent."""

    path: Path = Field(default=Path("var/outbox.sqlite3"), description="SQLite file.")
    max_events: int = Field(default=100_000, ge=10, description="Quota of queued events.")
    policy: Literal["drop_oldest", "refuse_new"] = Field(
        default="drop_oldest", description="What to do when the quota is reached (audited)."
    )


class TransportConfig(_Section):
    """Everything the event publisher needs."""

    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
