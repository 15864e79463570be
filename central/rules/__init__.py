"""Correlation rules: pure functions from an event and its context to alarm triggers."""
