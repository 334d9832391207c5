"""Vendor isolation: a production setting, the vendor of an artist's role, and the vendor of each record.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 14:35:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("productions", sa.Column("vendor_isolation", sa.Boolean(), nullable=False,
                                           server_default=sa.true()))
    op.add_column("roles", sa.Column("vendor", sa.String(length=200), nullable=True))
    op.add_column("records", sa.Column("vendor", sa.String(length=200), nullable=True))
    op.create_index(op.f("ix_records_vendor"), "records", ["vendor"], unique=False)
    # Records stored before: their vendor is the one their latest version declares.
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "select r.id, v.body from records r join record_versions v "
        "on v.record_id = r.id and v.version = r.latest_version"
    )).all()
    for record_id, body in rows:
        vendor = json.loads(body).get("vendor")
        if vendor:
            conn.execute(sa.text("update records set vendor = :v where id = :i"), {"v": vendor, "i": record_id})


def downgrade() -> None:
    op.drop_index(op.f("ix_records_vendor"), table_name="records")
    op.drop_column("records", "vendor")
    op.drop_column("roles", "vendor")
    op.drop_column("productions", "vendor_isolation")
