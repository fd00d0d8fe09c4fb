"""firmware components (API 1.86, 1.114) and node health (API 1.109) (issue 13)

``firmware_information``: one row per (node, component) as the node's firmware interface last read it, as
Ironic's table of the same name; ``nodes.health``: the BMC's health as the power sync last read it.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "firmware_information",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=255), nullable=False),
        sa.Column("initial_version", sa.String(length=255), nullable=True),
        sa.Column("current_version", sa.String(length=255), nullable=True),
        sa.Column("last_version_flashed", sa.String(length=255), nullable=True),
        sa.Column("vendor", sa.String(length=255), nullable=True),
        sa.Column("model", sa.String(length=255), nullable=True),
        sa.Column("serial_number", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["node_id"], ["nodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("node_id", "component", name="uniq_firmware_node_component"),
    )
    op.create_index(op.f("ix_firmware_information_node_id"), "firmware_information", ["node_id"], unique=False)
    with op.batch_alter_table("nodes") as batch:
        batch.add_column(sa.Column("health", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nodes") as batch:
        batch.drop_column("health")
    op.drop_index(op.f("ix_firmware_information_node_id"), table_name="firmware_information")
    op.drop_table("firmware_information")
