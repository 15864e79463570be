"""Central's storage: SQLAlchemy 2 models (SQLite by default, PostgreSQL in production)."""
