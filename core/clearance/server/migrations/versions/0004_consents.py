"""Consent registry: entries created and withdrawn by a production's legal role.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("production_id", sa.Integer(), nullable=False),
        sa.Column("talent", sa.String(length=300), nullable=False),
        sa.Column("given_by", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("guild_terms", sa.Text(), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_by", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.Column("signed_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["production_id"], ["productions.id"],
                                name=op.f("fk_consents_production_id_productions")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_consents_created_by_users")),
        sa.ForeignKeyConstraint(["withdrawn_by"], ["users.id"], name=op.f("fk_consents_withdrawn_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(op.f("ix_consents_production_id"), "consents", ["production_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_consents_production_id"), table_name="consents")
    op.drop_table("consents")
