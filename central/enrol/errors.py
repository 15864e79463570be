"""Errors of enrolment and privacy operations, each a refusal the caller can explain."""


class EnrolmentRefused(ValueError):
    """The request cannot be honoured as given (no consent, no face, too young, bad photo)."""
