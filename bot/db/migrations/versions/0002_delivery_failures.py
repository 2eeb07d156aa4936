"""delivery failures reported by status callbacks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
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
        "delivery_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("error_code", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("delivery_failures", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_failures_message_sid", ["message_sid"], unique=False)
        batch_op.create_index("ix_delivery_failures_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_failures_created_at")
        batch_op.drop_index("ix_delivery_failures_message_sid")
    op.drop_table("delivery_failures")
