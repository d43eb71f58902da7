"""inspection outcomes: each agency's own outcome on its part (done or not, findings, measures, a
note, shared or not), and the reason an inspection was closed without every outcome

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("inspection_parts") as batch:
        batch.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("findings", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("measures", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("outcome_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("outcome_shared", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("outcome_by", BigId, nullable=True))
        batch.add_column(sa.Column("outcome_at", Moment, nullable=True))
        batch.create_foreign_key("fk_inspection_parts_outcome_by", "members", ["outcome_by"], ["id"])
    with op.batch_alter_table("inspections") as batch:
        batch.add_column(sa.Column("closed_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inspections") as batch:
        batch.drop_column("closed_reason")
    with op.batch_alter_table("inspection_parts") as batch:
        batch.drop_constraint("fk_inspection_parts_outcome_by", type_="foreignkey")
        for column in (
            "outcome_at",
            "outcome_by",
            "outcome_shared",
            "outcome_note",
            "measures",
            "findings",
            "outcome",
        ):
            batch.drop_column(column)
