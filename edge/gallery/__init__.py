"""The gate's local gallery: central's signed snapshots and deltas, encrypted at rest."""
