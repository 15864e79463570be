"""Configuration of one camera: where its video comes from and how hard to try to keep it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CameraConfig(BaseModel):
    """One camera watching one gate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera_id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Id in events.")
    gate_id: str = Field(min_length=1, max_length=64, description="The gate this camera watches.")
    source: str | int = Field(
        description="rtsp://… or http://… URL, a video file path, or a USB camera index."
    )
    loop: bool = Field(default=False, description="Files only: start again at the end (demos).")
    realtime: bool = Field(
        default=True, description="Files only: deliver frames at the file's own frame rate."
    )
    fps_override: float | None = Field(
        default=None, gt=0, description="Files only: frame rate to pace at instead of the file's."
    )
    reconnect_min_s: float = Field(default=0.5, gt=0, description="First retry delay.")
    reconnect_max_s: float = Field(default=30.0, gt=0, description="Longest retry delay.")
    stall_timeout_s: float = Field(
        default=5.0, gt=0, description="No frame for this long: the camera is reported stalled."
    )
    max_bad_reads: int = Field(
        default=25, ge=1, description="Consecutive undecodable reads before the source is corrupt."
    )

    @model_validator(mode="after")
    def _backoff_order(self) -> CameraConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        return self

    @property
    def is_file(self) -> bool:
        """Whether the source is a local file rather than a stream or device."""
        return isinstance(self.source, str) and "://" not in self.source
