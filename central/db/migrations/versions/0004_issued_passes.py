"""issued visitor passes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 07:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import central.db.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: central keeps the passes it signs, to revoke them at the gates."""
    op.create_table(
        "issued_passes",
        sa.Column("pass_id", sa.String(length=64), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("compound_id", sa.String(length=64), nullable=False),
        sa.Column("valid_until", central.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", central.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["compound_id"], ["compounds.id"]),
        sa.ForeignKeyConstraint(["visitor_id"], ["visitors.id"]),
        sa.PrimaryKeyConstraint("pass_id"),
    )
    for column in ("visitor_id", "compound_id", "revoked_version"):
        op.create_index(f"ix_issued_passes_{column}", "issued_passes", [column])


def downgrade() -> None:
    """Revert this revision."""
    for column in ("visitor_id", "compound_id", "revoked_version"):
        op.drop_index(f"ix_issued_passes_{column}", table_name="issued_passes")
    op.drop_table("issued_passes")
