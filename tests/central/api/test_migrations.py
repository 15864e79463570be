"""Alembic migrations build exactly the schema the models declare, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from central.db.models import Base
from central.db.session import make_engine
from tests.central.api.conftest import Central


def test_migrated_schema_matches_the_models(central: Central) -> None:
    engine = make_engine(central.settings.database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == [], "regenerate the migration: " + repr(differences[:5])
