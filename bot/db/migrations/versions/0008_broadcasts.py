"""topic subscriptions, broadcasts, per-recipient deliveries and the worker lease

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=False),
        sa.Column("address", sa.LargeBinary(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "user_hash"),
    )
    op.create_index("ix_subscribers_user_hash", "subscribers", ["user_hash"])
    op.create_table(
        "subscription_topics",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscriber_id", "topic"),
    )
    op.create_index("ix_subscription_topics_topic", "subscription_topics", ["topic"])
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("text_es", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("approver", sa.String(length=255), nullable=True),
        sa.Column("send_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_broadcasts_status", "broadcasts", ["status"])
    op.create_table(
        "broadcast_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["broadcast_id"], ["broadcasts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("broadcast_id", "subscriber_id"),
    )
    op.create_index(
        "ix_broadcast_deliveries_broadcast_id", "broadcast_deliveries", ["broadcast_id"]
    )
    op.create_index(
        "ix_broadcast_deliveries_subscriber_id", "broadcast_deliveries", ["subscriber_id"]
    )
    op.create_index("ix_broadcast_deliveries_status", "broadcast_deliveries", ["status"])
    op.create_table(
        "worker_leases",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("worker_leases")
    op.drop_index("ix_broadcast_deliveries_status", "broadcast_deliveries")
    op.drop_index("ix_broadcast_deliveries_subscriber_id", "broadcast_deliveries")
    op.drop_index("ix_broadcast_deliveries_broadcast_id", "broadcast_deliveries")
    op.drop_table("broadcast_deliveries")
    op.drop_index("ix_broadcasts_status", "broadcasts")
    op.drop_table("broadcasts")
    op.drop_index("ix_subscription_topics_topic", "subscription_topics")
    op.drop_table("subscription_topics")
    op.drop_index("ix_subscribers_user_hash", "subscribers")
    op.drop_table("subscribers")
