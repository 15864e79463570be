"""The outlet's checks on video, composed: desk sessions, waybill, real name, X-ray, evidence.

Feed desk frames (and X-ray frames when a second camera sees the belt) in order with their
monotonic time; each call returns the ``parcel.inspection`` payloads that became final: a parcel
is final once its X-ray passage is seen or its window after leaving the desk is over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np

from edge.contract import ParcelInspection
from edge.outlet.config import OutletConfig
from edge.outlet.detector import ItemDetector
from edge.outlet.evidence import ParcelEvidenceStore
from edge.outlet.record import Findings, build_payload
from edge.outlet.scene import Box
from edge.outlet.sender import SenderDesk
from edge.outlet.session import DeskTracker, ParcelSession
from edge.outlet.waybill import TextReader, WaybillReader, WaybillVote
from edge.outlet.xray import Passage, XrayWatcher
from models.types import ImageRGB

log = logging.getLogger(__name__)

_LABEL_MARGIN = 0.1


@dataclass
class _Parcel:
    session: ParcelSession
    clip_step: int
    vote: WaybillVote = field(default_factory=WaybillVote)
    clip_frames: int = 0


class OutletInspector:
    """Turns desk (and X-ray) frames into one inspection payload per parcel."""

    def __init__(
        self,
        config: OutletConfig,
        sender: SenderDesk,
        evidence: ParcelEvidenceStore,
        ocr: TextReader | None = None,
        detector: ItemDetector | None = None,
    ) -> None:
        self.config = config
        self.sender = sender
        self.evidence = evidence
        self.tracker = DeskTracker(config.desk, config.inspection)
        self.waybill = WaybillReader(config.waybill, ocr)
        self.xray = XrayWatcher(config.xray, detector)
        self._current: _Parcel | None = None
        self._waiting: list[_Parcel] = []
        self._used_passages: set[float] = set()
        self.frames = 0

    def desk_frame(self, image_rgb: ImageRGB, t_s: float, wall: datetime) -> list[ParcelInspection]:
        """Process one desk frame; the payloads that became final."""
        self.frames += 1
        if self.config.xray.camera == "desk":
            self.xray.update(image_rgb, t_s)
        ended = self.tracker.update(image_rgb, t_s, wall)
        if ended is not None and self._current is not None:
            self._waiting.append(self._current)
            self._current = None
        active = self.tracker.active
        if active is not None:
            self._current = self._current or _Parcel(active, self.config.clip.every_n)
            self._watch(self._current, image_rgb)
        return self._settle(t_s, final=False)

    def xray_frame(self, image_rgb: ImageRGB, t_s: float) -> list[ParcelInspection]:
        """Process one frame of a separate X-ray camera; the payloads that became final."""
        self.xray.update(image_rgb, t_s)
        return self._settle(t_s, final=False)

    def due(self, now_s: float) -> list[ParcelInspection]:
        """Payloads whose X-ray window closed by ``now_s`` (call when no frames arrive)."""
        return self._settle(now_s, final=False)

    def flush(self, now_s: float) -> list[ParcelInspection]:
        """Finalise every parcel that left the desk, X-ray seen or not (at shutdown)."""
        return self._settle(now_s, final=True)

    def _watch(self, parcel: _Parcel, image_rgb: ImageRGB) -> None:
        box = parcel.session.box_px
        if box is not None:
            self.waybill.offer(parcel.vote, _with_margin(box, image_rgb).crop(image_rgb))
        self._keep_for_clip(parcel, image_rgb)

    def _keep_for_clip(self, parcel: _Parcel, image_rgb: ImageRGB) -> None:
        """Keep every n-th frame; when full, halve the clip and double n, so the clip always
        spans the whole session."""
        clip = self.config.clip
        parcel.clip_frames += 1
        if not clip.enabled or parcel.clip_frames % parcel.clip_step:
            return
        kept = parcel.session.clip
        if len(kept) >= clip.max_frames:
            del kept[1::2]
            parcel.clip_step *= 2
        kept.append(_shrink(image_rgb, clip.width_px))

    def _settle(self, now_s: float, final: bool) -> list[ParcelInspection]:
        done: list[ParcelInspection] = []
        for parcel in list(self._waiting):
            ended_s = parcel.session.ended_s
            assert ended_s is not None
            passage = self._passage(ended_s)
            if passage is None and not (final or self.xray.window_closed(ended_s, now_s)):
                continue
            self._waiting.remove(parcel)
            done.append(self._conclude(parcel, passage))
        return done

    def _passage(self, ended_s: float) -> Passage | None:
        self._used_passages &= {seen.started_s for seen in self.xray.passages}
        passage = self.xray.passage_after(ended_s)
        if passage is None or passage.started_s in self._used_passages:
            return None
        self._used_passages.add(passage.started_s)
        return passage

    def _conclude(self, parcel: _Parcel, passage: Passage | None) -> ParcelInspection:
        session = parcel.session
        assert session.ended_s is not None
        findings = Findings(
            session=session,
            waybill=self.waybill.conclude(parcel.vote),
            sender=self.sender.for_parcel(session.started_s, session.ended_s),
            passage=passage,
        )
        keyframes = [
            parcel.vote.label_crop,
            session.peak_frame,
            passage.image_rgb if passage else None,
        ]
        ids = [self.evidence.save(image) for image in keyframes if image is not None]
        ids.append(self.evidence.save_clip(session.clip))
        place = (self.config.device.outlet_id, self.config.desk.desk_id)
        payload = build_payload(
            findings, self.config.inspection, place, [i for i in ids if i is not None]
        )
        log.info(
            "event=parcel_inspected session=%s flags=%s inspection_s=%.1f",
            session.session_id,
            ",".join(payload.flags) or "-",
            payload.inspection_s,
        )
        return payload


def _with_margin(box: Box, image: ImageRGB) -> Box:
    dx, dy = round((box.x1 - box.x0) * _LABEL_MARGIN), round((box.y1 - box.y0) * _LABEL_MARGIN)
    height, width = image.shape[:2]
    return Box(
        max(0, box.x0 - dx), max(0, box.y0 - dy), min(width, box.x1 + dx), min(height, box.y1 + dy)
    )


def _shrink(image: ImageRGB, width: int) -> ImageRGB:
    if image.shape[1] <= width:
        return image.copy()
    height = round(image.shape[0] * width / image.shape[1])
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), np.uint8)
