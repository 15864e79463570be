"""Liveness: an active head-turn challenge read from landmarks, and a slot for a PAD model."""

from edge.liveness.challenge import Challenge, ChallengeConfig, Direction, HeadPose
from edge.liveness.config import LivenessConfig, Requirement
from edge.liveness.pad import AttackDetector, PadConfig, load_attack_detector

__all__ = [
    "AttackDetector",
    "Challenge",
    "ChallengeConfig",
    "Direction",
    "HeadPose",
    "LivenessConfig",
    "PadConfig",
    "Requirement",
    "load_attack_detector",
]
