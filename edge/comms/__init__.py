"""The gate and outlet nodes' link to central: MQTT client (5, or 3.1.1) and its configuration."""
