"""Every central table, imported so that ``Base.metadata`` is complete (Alembic, tests)."""

from central.db import auth_models, events_models, parcel_models, privacy_models, registry_models
from central.db.base import Base

__all__ = [
    "Base",
    "auth_models",
    "events_models",
    "parcel_models",
    "privacy_models",
    "registry_models",
]
