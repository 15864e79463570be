"""Central's settings and the secrets it keeps on disk."""
