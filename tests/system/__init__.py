"""End-to-end checks of the whole system as real processes (security claims of issue #7)."""
