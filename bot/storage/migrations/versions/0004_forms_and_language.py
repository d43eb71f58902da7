"""open forms (one proposal per form card, cancel closes the card) and each member's language

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("language", sa.String(length=5), nullable=True))
    op.create_table(
        "forms",
        sa.Column("id", BigId, nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("owner_aad_id", sa.String(length=64), nullable=True),
        sa.Column("item_id", BigId, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result_id", BigId, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token", name="uq_form_token"),
    )
    op.create_index("ix_forms_owner", "forms", ["owner_aad_id", "status"])
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("form_token", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_proposal_form_token", ["form_token"])


def downgrade() -> None:
    with op.batch_alter_table("proposals") as batch:
        batch.drop_constraint("uq_proposal_form_token", type_="unique")
        batch.drop_column("form_token")
    op.drop_index("ix_forms_owner", table_name="forms")
    op.drop_table("forms")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("language")
