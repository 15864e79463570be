"""Alarms: raising with de-duplication, lifecycle, and the periodic checks."""
