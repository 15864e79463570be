"""Face tracking across frames: one person walking up is one track."""

from edge.track.tracker import Observation, Track, Tracker, TrackerConfig

__all__ = ["Observation", "Track", "Tracker", "TrackerConfig"]
