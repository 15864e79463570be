"""The gate and outlet nodes' link to central: MQTT 5 client and its configuration."""
