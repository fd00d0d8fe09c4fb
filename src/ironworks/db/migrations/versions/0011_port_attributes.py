"""port and portgroup attributes of API 1.88–1.111 (issue 13)

``ports``: ``vendor`` (1.100), ``category`` (1.101), ``available_for_dynamic_portgroup`` (1.111, default true)
and Ironic's unique port name (``uniq_ports0name``, 1.88). ``portgroups``: ``category`` (1.103) and
``dynamic_portgroup`` (1.111, read-only, false for every portgroup the API creates).

Port names were stored without a uniqueness rule before this revision: where two ports share a name, the
oldest keeps it and the others' names are cleared, so the constraint can be created.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ports = sa.table("ports", sa.column("id", sa.Integer()), sa.column("name", sa.String()))
    keep = sa.select(sa.func.min(ports.c.id)).where(ports.c.name.is_not(None)).group_by(ports.c.name).scalar_subquery()
    op.execute(ports.update().where(ports.c.name.is_not(None), ports.c.id.not_in(keep)).values(name=None))
    with op.batch_alter_table("ports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vendor", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("category", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("available_for_dynamic_portgroup", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.create_unique_constraint("uniq_ports0name", ["name"])
    with op.batch_alter_table("portgroups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("dynamic_portgroup", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("portgroups", schema=None) as batch_op:
        batch_op.drop_column("dynamic_portgroup")
        batch_op.drop_column("category")
    with op.batch_alter_table("ports", schema=None) as batch_op:
        batch_op.drop_constraint("uniq_ports0name", type_="unique")
        batch_op.drop_column("available_for_dynamic_portgroup")
        batch_op.drop_column("category")
        batch_op.drop_column("vendor")
