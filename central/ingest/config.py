"""Ingest settings: batching, the MQTT session, and when a backlog raises an alarm."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class IngestConfig(BaseModel):
    """How an ingest worker batches, keeps its session and reports a backlog."""

    model_config = ConfigDict(extra="forbid")

    batch_max_messages: int = Field(
        default=500, ge=1, le=5000, description="Messages stored in one transaction at most."
    )
    batch_max_ms: int = Field(
        default=50, ge=1, le=10_000, description="How long a batch waits to fill before storing."
    )
    receive_maximum: int = Field(
        default=2000,
        ge=1,
        le=65535,
        description="Unacknowledged messages the broker may send at once (MQTT 5).",
    )
    session_expiry_s: int = Field(
        default=7 * 24 * 3600,
        ge=60,
        description="How long the broker keeps the worker's session and queue while it is away.",
    )
    retire_on_stop: bool = Field(
        default=False,
        description="On a clean stop, leave the shared subscription, drain and end the session, "
        "so the other workers take this worker's share (MQTT 5; for scaling down). Off: the "
        "broker keeps queueing this worker's share until it starts again.",
    )
    keepalive_s: int = Field(default=30, ge=5, le=600)
    reconnect_min_s: float = Field(default=1.0, gt=0, description="First reconnect delay.")
    reconnect_max_s: float = Field(
        default=10.0, gt=0, description="Longest reconnect delay (it doubles up to this)."
    )
    stable_after_s: float = Field(
        default=30.0,
        gt=0,
        description="A link up this long resets the reconnect delay (a broker that drops the "
        "worker right after each connect sees it back off, not flap).",
    )
    backlog_lag_s: float = Field(
        default=60.0,
        gt=0,
        description="Alarm when even the freshest message of a batch is this far behind.",
    )
    backlog_messages: int = Field(
        default=20_000, ge=1, description="Alarm when this many messages wait in the worker."
    )

    @model_validator(mode="after")
    def _delays_ordered(self) -> IngestConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must not be below reconnect_min_s")
        return self
