"""The one-command demo's parts: child processes, broker, central set-up, edge nodes, live feed."""
