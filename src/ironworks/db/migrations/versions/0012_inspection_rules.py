"""inspection rules (API 1.96): conditions and actions applied to inspection data (issue 13)

``inspection_rules``: uuid unique; ``conditions`` and ``actions`` JSON lists, as Ironic keeps them; ``phase``
indexed (rules are listed per phase when inspection data arrives).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=True),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
    )
    op.create_index("inspection_rule_phase_idx", "inspection_rules", ["phase"])


def downgrade() -> None:
    op.drop_index("inspection_rule_phase_idx", table_name="inspection_rules")
    op.drop_table("inspection_rules")
