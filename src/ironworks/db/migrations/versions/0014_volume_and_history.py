"""volume connectors and targets (API 1.32); node history project, states and duration (API 1.113, 1.115)

``volume_connectors``: uuid unique, (type, connector_id) unique; ``volume_targets``: uuid unique,
(node_id, boot_index) unique; both deleted with their node. ``node_history`` gains ``project``, ``state``,
``target_provision_state`` and ``duration_seconds`` (issue 13).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "volume_connectors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("connector_id", sa.String(length=255), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["node_id"], ["nodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
        sa.UniqueConstraint("type", "connector_id", name="uniq_volumeconnectors0type0connector_id"),
    )
    with op.batch_alter_table("volume_connectors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_volume_connectors_node_id"), ["node_id"], unique=False)
    op.create_table(
        "volume_targets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("volume_type", sa.String(length=64), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("boot_index", sa.Integer(), nullable=False),
        sa.Column("volume_id", sa.String(length=36), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["node_id"], ["nodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
        sa.UniqueConstraint("node_id", "boot_index", name="uniq_volumetargets0node_id0boot_index"),
    )
    with op.batch_alter_table("volume_targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_volume_targets_node_id"), ["node_id"], unique=False)
    with op.batch_alter_table("node_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("project", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("state", sa.String(length=15), nullable=True))
        batch_op.add_column(sa.Column("target_provision_state", sa.String(length=15), nullable=True))
        batch_op.add_column(sa.Column("duration_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("node_history", schema=None) as batch_op:
        batch_op.drop_column("duration_seconds")
        batch_op.drop_column("target_provision_state")
        batch_op.drop_column("state")
        batch_op.drop_column("project")
    op.drop_table("volume_targets")
    op.drop_table("volume_connectors")
