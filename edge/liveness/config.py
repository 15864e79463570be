"""When liveness is required (per gate, per risk level) and how it is checked."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edge.liveness.challenge import ChallengeConfig
from edge.liveness.pad import PadConfig

Requirement = Literal["never", "visitors", "always"]
"""``visitors``: only people enrolled as visitors (the higher-risk group) must pass it."""


class LivenessConfig(BaseModel):
    """Liveness requirement and the checks behind it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    required: Requirement = Field(default="visitors", description="Default for every gate.")
    gates: dict[str, Requirement] = Field(
        default_factory=dict, description="Per-gate overrides: gate id -> requirement."
    )
    challenge: ChallengeConfig = Field(default_factory=ChallengeConfig)
    pad: PadConfig = Field(default_factory=PadConfig)

    def requirement(self, gate_id: str) -> Requirement:
        """The requirement at ``gate_id``."""
        return self.gates.get(gate_id, self.required)

    def required_for(self, gate_id: str, person_kind: str | None) -> bool:
        """Whether a face decision for a ``person_kind`` at ``gate_id`` needs liveness."""
        requirement = self.requirement(gate_id)
        return requirement == "always" or (requirement == "visitors" and person_kind == "visitor")
