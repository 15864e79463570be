"""The gate node: vision decisions, policy, evidence, composition, configuration and CLI."""
