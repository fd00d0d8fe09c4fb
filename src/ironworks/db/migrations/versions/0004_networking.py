"""networking: networks, VIFs and the addresses allocated to them (issue 8)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "networks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("vlan_id", sa.Integer(), nullable=True),
        sa.Column("physical_network", sa.String(length=64), nullable=True),
        sa.Column("cidr", sa.String(length=64), nullable=True),
        sa.Column("gateway", sa.String(length=64), nullable=True),
        sa.Column("dns_nameservers", sa.JSON(), nullable=False),
        sa.Column("allocation_start", sa.String(length=64), nullable=True),
        sa.Column("allocation_end", sa.String(length=64), nullable=True),
        sa.Column("routes", sa.JSON(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("dhcp_interface", sa.String(length=64), nullable=True),
        sa.Column("mtu", sa.Integer(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "vifs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("vif_id", sa.String(length=255), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("port_uuid", sa.String(length=36), nullable=True),
        sa.Column("mac", sa.String(length=18), nullable=True),
        sa.Column("attached_kind", sa.String(length=16), nullable=False),
        sa.Column("attached_uuid", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["node_id"], ["nodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("vif_id"),
    )
    op.create_index("ix_vifs_node_id", "vifs", ["node_id"])
    op.create_table(
        "vif_networks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("vif_pk", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["vif_pk"], ["vifs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["network_id"], ["networks.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("network_id", "ip_address", name="uniq_vif_networks0network_ip"),
    )
    op.create_index("ix_vif_networks_vif_pk", "vif_networks", ["vif_pk"])
    op.create_index("ix_vif_networks_network_id", "vif_networks", ["network_id"])


def downgrade() -> None:
    op.drop_index("ix_vif_networks_network_id", table_name="vif_networks")
    op.drop_index("ix_vif_networks_vif_pk", table_name="vif_networks")
    op.drop_table("vif_networks")
    op.drop_index("ix_vifs_node_id", table_name="vifs")
    op.drop_table("vifs")
    op.drop_table("networks")
