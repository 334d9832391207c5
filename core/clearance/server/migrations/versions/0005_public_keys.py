"""Public keys published in the database, so every host serves the same key set.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 14:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "public_keys",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_public_keys")),
    )


def downgrade() -> None:
    op.drop_table("public_keys")
