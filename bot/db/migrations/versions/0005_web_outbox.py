"""staff replies waiting for a web chat page to collect them

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
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
        "web_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_web_outbox_user_hash", ["user_hash"], unique=False)
        batch_op.create_index("ix_web_outbox_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_web_outbox_created_at")
        batch_op.drop_index("ix_web_outbox_user_hash")
    op.drop_table("web_outbox")
