"""Telegram message ids per keyed hash, so /borrar_chat can delete them (48 hours)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_message_ids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("chat_message_ids", schema=None) as batch_op:
        batch_op.create_index("ix_chat_message_ids_user_hash", ["user_hash"], unique=False)
        batch_op.create_index("ix_chat_message_ids_sent_at", ["sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chat_message_ids", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_message_ids_sent_at")
        batch_op.drop_index("ix_chat_message_ids_user_hash")
    op.drop_table("chat_message_ids")
