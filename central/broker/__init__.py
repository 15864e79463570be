"""Mosquitto configuration for production: persistence, deep queues, TLS, no anonymous."""
