"""MQTT ingest: validate, store idempotently, acknowledge after commit, then run the rules."""
