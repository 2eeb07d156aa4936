"""SMS: STOP, today's outbound segments and the rest of a long answer, per keyed hash

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_ledger",
        sa.Column("user_hash", sa.String(length=64), nullable=False),
        sa.Column("stopped", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("cap_notified", sa.Boolean(), nullable=False),
        sa.Column("more", sa.Text(), nullable=False),
        sa.Column("more_preview", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_hash"),
    )
    with op.batch_alter_table("sms_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_sms_ledger_updated_at", ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sms_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_ledger_updated_at")
    op.drop_table("sms_ledger")
