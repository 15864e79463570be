"""Video capture: one grabber thread per camera, newest frame only, health reported."""

from edge.capture.camera import Camera, CaptureCounters, Frame
from edge.capture.config import CameraConfig

__all__ = ["Camera", "CameraConfig", "CaptureCounters", "Frame"]
