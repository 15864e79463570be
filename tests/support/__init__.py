"""Helpers the test suites share: real services, free ports, private brokers."""
