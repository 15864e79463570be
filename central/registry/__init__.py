"""Registries: reads other packages use, and identity-number handling."""
