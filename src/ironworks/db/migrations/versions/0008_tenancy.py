"""tenancy: network owners and sharing, per-project server names, a per-project allocation cap (issue 12)

* ``networks.owner`` (the owning project; None: the operator's) and ``networks.shared`` (Neutron's flag).
  Networks that exist before this migration have no owner and are **shared**: every project keeps using them
  as before; new networks are not shared unless their creator says so (docs/networking.md).
* ``instances.name`` is unique per project (``owner``, ``name``), no longer across the deployment.
* ``project_policies.max_allocations``: a project's own cap on the nodes it holds (None: the setting).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _instances(name_unique: bool) -> sa.Table:
    """The instances table as 0007 made it, with or without its deployment-wide unique name (SQLite rebuild)."""
    unique = [sa.UniqueConstraint("name")] if name_unique else []
    return sa.Table(
        "instances",
        sa.MetaData(),
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
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
        *unique,
        sa.Index("ix_instances_owner", "owner"),
        sa.Index("ix_instances_node_uuid", "node_uuid"),
    )


def upgrade() -> None:
    op.add_column("networks", sa.Column("owner", sa.String(length=255), nullable=True))
    op.add_column("networks", sa.Column("shared", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("ix_networks_owner", "networks", ["owner"])
    # what existed before tenancy stays usable by everyone: nothing that worked breaks
    op.execute(sa.text("UPDATE networks SET shared = :yes").bindparams(yes=True))

    op.add_column("project_policies", sa.Column("max_allocations", sa.Integer(), nullable=True))

    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop the unnamed UNIQUE(name): rebuild the table from its known shape
        with op.batch_alter_table("instances", recreate="always", copy_from=_instances(False)) as batch:
            batch.create_unique_constraint("uq_instances_owner_name", ["owner", "name"])
    else:
        op.drop_constraint("instances_name_key", "instances", type_="unique")
        op.create_unique_constraint("uq_instances_owner_name", "instances", ["owner", "name"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("instances", recreate="always", copy_from=_instances(False)) as batch:
            batch.create_unique_constraint("instances_name_key", ["name"])
    else:
        op.drop_constraint("uq_instances_owner_name", "instances", type_="unique")
        op.create_unique_constraint("instances_name_key", "instances", ["name"])
    op.drop_column("project_policies", "max_allocations")
    op.drop_index("ix_networks_owner", table_name="networks")
    op.drop_column("networks", "shared")
    op.drop_column("networks", "owner")
