"""A GateVision rig for tests: an in-memory gallery fed generated frames on a 15 fps clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from edge.capture import Frame
from edge.gate.policy import Policy, PolicyConfig
from edge.gate.vision import FaceDecision, GateVision, RecognitionConfig
from edge.liveness import AttackDetector, Direction, LivenessConfig
from edge.recognize import TemplateIndex
from models.engine import FaceEngine
from models.types import ImageRGB
from tests.edge import videogen
from tests.edge.videogen import FaceCut

START = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Enrolled:
    """A stand-in with GalleryPerson's fields."""

    person_id: str
    person_kind: Literal["resident", "visitor"] = "resident"
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    gate_ids: tuple[str, ...] = ()


class VisionRig:
    """A GateVision over an in-memory gallery, fed frames on a synthetic 15 fps clock."""

    def __init__(
        self,
        engine: FaceEngine,
        liveness: str = "never",
        limit_s: float = 4.0,
        attack_detector: AttackDetector | None = None,
    ) -> None:
        liveness_config = {"required": liveness, "challenge": {"time_limit_s": limit_s}}
        self.index = TemplateIndex(engine.dimension, "numpy")
        self.people: dict[str, Enrolled] = {}
        self.prompts: list[tuple[Direction, ...]] = []
        self.vision = GateVision(
            engine,
            self.index,
            self.people.get,
            Policy(PolicyConfig()),
            (RecognitionConfig(), LivenessConfig.model_validate(liveness_config)),
            attack_detector,
        )
        self.vision.on_prompt = lambda _gate, _track, turns: self.prompts.append(turns)
        self.sequence = 0

    def enrol(self, person: Enrolled, cut: FaceCut) -> None:
        self.people[person.person_id] = person
        self.index.upsert(person.person_id, cut.template[None])

    def feed(self, images: Iterable[ImageRGB]) -> list[FaceDecision]:
        decisions = []
        for image in images:
            decisions += self.step(image)
        return decisions

    def step(self, image: ImageRGB) -> list[FaceDecision]:
        self.sequence += 1
        at_s = self.sequence / videogen.FPS
        frame = Frame("cam1", "g1", self.sequence, image, at_s, START + timedelta(seconds=at_s))
        return self.vision.process(frame)


def answer_challenge(rig: VisionRig, cut: FaceCut, turn_deg: float = 35) -> list[FaceDecision]:
    """A live person in front of the camera, doing the turns the gate asks for."""
    first = list(videogen.turning_head(cut, []))
    decisions = rig.feed(first)
    asked = rig.prompts[-1]
    turns = [turn_deg if direction == "left" else -turn_deg for direction in asked]
    frames = list(videogen.turning_head(cut, turns))[len(first) :]
    return decisions + rig.feed(frames + list(videogen.empty_scene(25)))
