"""The governance-centre dashboard: page, static files and roll-up queries."""
