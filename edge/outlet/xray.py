"""The X-ray machine's belt exit: parcels passing, matched to the parcel that left the desk.

The belt region has its own reference learnt while idle; a passage is the region staying busy
for ``busy_s``. A parcel is confirmed when a passage starts within ``window_s`` after its
session on the desk ended; a configured detector looks at the region when a passage starts.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field

from edge.outlet.config import XrayConfig
from edge.outlet.detector import ItemDetector, ItemHit
from edge.outlet.scene import SceneModel, region_box, to_grey
from models.types import ImageRGB

log = logging.getLogger(__name__)

_WIDTH_PX = 160
_KEPT = 32
_WHOLE = (0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True)
class Passage:
    """One parcel seen leaving the X-ray machine."""

    started_s: float
    image_rgb: ImageRGB
    hits: list[ItemHit] = field(default_factory=list)


class XrayWatcher:
    """Feeds frames of the camera that sees the belt exit; remembers recent passages."""

    def __init__(self, config: XrayConfig, detector: ItemDetector | None = None) -> None:
        self._config = config
        self._detector = detector
        self._scene = SceneModel(_WHOLE, diff_threshold=28, learning_rate=0.05)
        self._busy_since: float | None = None
        self._in_passage = False
        self.passages: deque[Passage] = deque(maxlen=_KEPT)
        self.detector_failures = 0

    def update(self, image_rgb: ImageRGB, t_s: float) -> None:
        """Process one frame taken at monotonic ``t_s``."""
        full = region_box(self._config.region, image_rgb.shape[1], image_rgb.shape[0])
        crop = full.crop(image_rgb)
        grey = to_grey(crop, _WIDTH_PX)
        busy = float(self._scene.foreground(grey).mean()) >= self._config.busy_fraction
        if not self._scene.ready or not busy:
            self._busy_since, self._in_passage = None, False
            self._scene.learn(grey)
            return
        self._busy_since = t_s if self._busy_since is None else self._busy_since
        if not self._in_passage and t_s - self._busy_since >= self._config.busy_s:
            self._in_passage = True
            self.passages.append(Passage(self._busy_since, crop.copy(), self._detect(crop)))
            log.info("event=xray_passage t_s=%.2f", self._busy_since)

    def passage_after(self, ended_s: float) -> Passage | None:
        """The first passage that started within the window after ``ended_s``."""
        for passage in self.passages:
            if ended_s <= passage.started_s <= ended_s + self._config.window_s:
                return passage
        return None

    def window_closed(self, ended_s: float, now_s: float) -> bool:
        """Whether the window after ``ended_s`` is over."""
        return now_s > ended_s + self._config.window_s

    def _detect(self, crop: ImageRGB) -> list[ItemHit]:
        if self._detector is None:
            return []
        try:
            return self._detector.detect(crop)
        except Exception:  # a failing plug-in must not stop the watcher
            self.detector_failures += 1
            log.exception("event=xray_detector_failed")
            return []
