"""instances: one-call servers and the image catalogue (issue 9)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("checksum", sa.String(length=255), nullable=True),
        sa.Column("os_hash_algo", sa.String(length=16), nullable=True),
        sa.Column("os_hash_value", sa.String(length=255), nullable=True),
        sa.Column("disk_format", sa.String(length=16), nullable=False),
        sa.Column("image_type", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "instances",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("node_uuid", sa.String(length=36), nullable=True),
        sa.Column("allocation_uuid", sa.String(length=36), nullable=True),
        sa.Column("flavor", sa.String(length=255), nullable=True),
        sa.Column("resource_class", sa.String(length=80), nullable=True),
        sa.Column("traits", sa.JSON(), nullable=False),
        sa.Column("image", sa.JSON(), nullable=False),
        sa.Column("networks", sa.JSON(), nullable=False),
        sa.Column("ssh_keys", sa.JSON(), nullable=False),
        sa.Column("has_root_password", sa.Boolean(), nullable=False),
        sa.Column("has_user_data", sa.Boolean(), nullable=False),
        sa.Column("delete_requested_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_instances_owner", "instances", ["owner"])
    op.create_index("ix_instances_node_uuid", "instances", ["node_uuid"])


def downgrade() -> None:
    op.drop_index("ix_instances_node_uuid", table_name="instances")
    op.drop_index("ix_instances_owner", table_name="instances")
    op.drop_table("instances")
    op.drop_table("images")
