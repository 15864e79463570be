"""Errors raised by the model zoo and the face engine."""


class ModelError(Exception):
    """A model pack is missing, corrupt, or cannot run here."""


class FaceEngineError(Exception):
    """An input the face engine cannot work with (unreadable image, no face)."""
