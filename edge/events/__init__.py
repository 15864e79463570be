"""Events leaving a node: the durable SQLite outbox and the signing MQTT publisher."""
