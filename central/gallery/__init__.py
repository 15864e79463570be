"""Gallery distribution: per-compound versions, signed snapshots and deltas, lagging gates."""
