"""Previews: a small picture per target of a record, for the approver's pages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "previews",
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("target", sa.String(length=400), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], name=op.f("fk_previews_record_id_records"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"], name=op.f("fk_previews_uploaded_by_users")),
        sa.PrimaryKeyConstraint("record_id", "target", name=op.f("pk_previews")),
    )


def downgrade() -> None:
    op.drop_table("previews")
