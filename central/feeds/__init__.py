"""Live feeds for the dashboard."""
