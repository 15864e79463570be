"""Central service: registries, ingest, rules and the governance-centre dashboard."""
