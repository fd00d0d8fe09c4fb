"""conductor: durable intents and node history

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("node_uuid", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["node_id"], ["nodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("intents_status_idx", "intents", ["status"])
    op.create_index("ix_intents_node_id", "intents", ["node_id"])
    op.create_table(
        "node_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.Text(), nullable=True),
        sa.Column("event_type", sa.String(length=255), nullable=True),
        sa.Column("severity", sa.String(length=255), nullable=True),
        sa.Column("user", sa.String(length=32), nullable=True),
        sa.Column("conductor", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["node_id"], ["nodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
    )
    op.create_index("ix_node_history_node_id", "node_history", ["node_id"])


def downgrade() -> None:
    op.drop_index("ix_node_history_node_id", table_name="node_history")
    op.drop_table("node_history")
    op.drop_index("ix_intents_node_id", table_name="intents")
    op.drop_index("intents_status_idx", table_name="intents")
    op.drop_table("intents")
