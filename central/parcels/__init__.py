"""Courier parcels: registries, acceptance states, 三个100% rates and their alarms."""
