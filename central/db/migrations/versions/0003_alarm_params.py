"""alarm parameters

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: alarms keep their detail's facts by name (existing rows: none)."""
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", sa.JSON(), server_default="{}", nullable=False))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.drop_column("params")
