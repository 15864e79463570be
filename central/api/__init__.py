"""Central's HTTP API."""
