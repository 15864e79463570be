"""Parcel sessions on the inspection desk: arrival, box opened, hands at work, departure.

A session opens when the desk stays occupied for ``enter_s`` and closes when it stays empty for
``leave_s`` (hysteresis between two occupancy fractions). Once the scene is still, the largest
foreground blob is the box and its look is remembered as *closed*. The box counts as opened
when its inside looks different from *closed* while nothing moves there for ``opened_still_s``:
opened flaps, the dark interior or unpacked contents stay changed, whereas hands waving over a
closed box leave it looking closed again. Hands at work are seconds of motion inside the box
while it looks changed; they count as inspection only once the box is known to be opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from edge.contract.ids import new_event_id
from edge.outlet.config import DeskConfig, InspectionConfig
from edge.outlet.scene import (
    Box,
    Grey,
    Mask,
    SceneModel,
    changed,
    largest_blob,
    region_box,
    to_grey,
)
from models.types import ImageRGB

_INNER_MARGIN = 0.15
_MIN_BOX_PX = 16


@dataclass(frozen=True)
class _View:
    """One desk frame as the session checks see it (analysis pixels)."""

    aligned: Grey
    moving: Mask
    """Pixels that changed since the previous frame."""
    foreground: Mask
    desk: Box
    dt: float
    image_rgb: ImageRGB


@dataclass
class ParcelSession:
    """What the desk camera saw of one parcel (times are monotonic seconds)."""

    session_id: str
    started_s: float
    started_at: datetime
    box: Box | None = None
    """The box in analysis pixels, once learnt."""
    scale: float = 1.0
    """Full-frame pixels per analysis pixel."""
    closed_look: Grey | None = None
    opened: bool = False
    inspection_s: float = 0.0
    activity_s: float = 0.0
    still_changed_s: float = 0.0
    peak_motion: float = 0.0
    peak_frame: ImageRGB | None = None
    ended_s: float | None = None
    ended_at: datetime | None = None
    still_since_s: float | None = None
    clip: list[ImageRGB] = field(default_factory=list)

    @property
    def box_px(self) -> Box | None:
        """The box in full-frame pixels."""
        return None if self.box is None else self.box.scaled(self.scale)


def _inner(box: Box) -> Box:
    dx, dy = round((box.x1 - box.x0) * _INNER_MARGIN), round((box.y1 - box.y0) * _INNER_MARGIN)
    return Box(box.x0 + dx, box.y0 + dy, box.x1 - dx, box.y1 - dy)


class DeskTracker:
    """Feeds desk frames in order; returns the session that ended, if one did."""

    def __init__(self, desk: DeskConfig, inspection: InspectionConfig) -> None:
        self._desk = desk
        self._inspection = inspection
        self._scene = SceneModel(desk.static_strip, desk.diff_threshold, desk.reference_rate)
        self._previous: Grey | None = None
        self._previous_s = 0.0
        self._occupied_since: float | None = None
        self._empty_since: float | None = None
        self.active: ParcelSession | None = None
        self.occupancy = 0.0

    def update(self, image_rgb: ImageRGB, t_s: float, wall: datetime) -> ParcelSession | None:
        """Process one frame taken at monotonic ``t_s`` (UTC ``wall``)."""
        aligned = self._scene.align(to_grey(image_rgb, self._desk.analysis_width_px))
        previous, dt = self._previous, max(0.0, t_s - self._previous_s)
        self._previous, self._previous_s = aligned, t_s
        if not self._scene.ready or previous is None or previous.shape != aligned.shape:
            self._scene.learn(aligned)
            return None
        desk = region_box(self._desk.region, aligned.shape[1], aligned.shape[0])
        foreground = self._scene.foreground(aligned)
        self.occupancy = float(desk.crop(foreground).mean())
        if self.active is None:
            self._while_empty(aligned, image_rgb, t_s, wall)
            return None
        if self.occupancy < self._desk.empty_fraction:
            self._empty_since = t_s if self._empty_since is None else self._empty_since
            if t_s - self._empty_since >= self._desk.leave_s:
                return self._end(wall)
            return None
        self._empty_since = None
        moving = changed(aligned, previous, self._desk.diff_threshold)
        self._observe(self.active, _View(aligned, moving, foreground, desk, dt, image_rgb))
        return None

    def _while_empty(self, aligned: Grey, image_rgb: ImageRGB, t_s: float, wall: datetime) -> None:
        if self.occupancy <= self._desk.occupied_fraction:
            self._occupied_since = None
            self._scene.learn(aligned)
            return
        self._occupied_since = t_s if self._occupied_since is None else self._occupied_since
        if t_s - self._occupied_since >= self._desk.enter_s:
            scale = image_rgb.shape[1] / aligned.shape[1]
            self.active = ParcelSession(new_event_id().hex, self._occupied_since, wall, scale=scale)
            self._empty_since = None

    def _end(self, wall: datetime) -> ParcelSession:
        session, self.active = self.active, None
        assert session is not None
        session.ended_s, session.ended_at = self._empty_since, wall
        self._occupied_since = self._empty_since = None
        return session

    def _observe(self, session: ParcelSession, view: _View) -> None:
        if session.box is None or session.closed_look is None:
            self._learn_box(session, view)
            return
        inner = _inner(session.box)
        motion = float(inner.crop(view.moving).mean())
        closed = _closed_at(session, view.aligned)
        look = inner.crop(changed(view.aligned, closed, self._desk.diff_threshold))
        self._judge(session, float(look.mean()), motion, view)

    def _learn_box(self, session: ParcelSession, view: _View) -> None:
        if float(view.desk.crop(view.moving).mean()) >= self._inspection.motion_fraction:
            session.still_since_s = None
            return
        session.still_since_s = (session.still_since_s or 0.0) + view.dt
        if session.still_since_s < self._desk.settle_s:
            return
        box = largest_blob(view.foreground, view.desk)
        if box is not None and box.area >= _MIN_BOX_PX:
            session.box, session.closed_look = box, view.aligned.copy()

    def _judge(self, session: ParcelSession, change: float, motion: float, view: _View) -> None:
        rules = self._inspection
        looks_changed = change >= rules.opened_fraction
        if looks_changed and motion >= rules.motion_fraction:
            session.activity_s += view.dt
            if motion > session.peak_motion:
                session.peak_motion, session.peak_frame = motion, view.image_rgb
        if looks_changed and motion < rules.motion_fraction:
            session.still_changed_s += view.dt
            session.opened = session.opened or session.still_changed_s >= rules.opened_still_s
        elif not looks_changed:
            session.still_changed_s = 0.0
        session.inspection_s = session.activity_s if session.opened else 0.0


def _closed_at(session: ParcelSession, aligned: Grey) -> Grey:
    closed = session.closed_look
    return closed if closed is not None and closed.shape == aligned.shape else aligned
