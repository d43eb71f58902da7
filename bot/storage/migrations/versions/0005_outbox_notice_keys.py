"""outbox entries keyed by item, purpose, recipient and version, so that withdrawing is exact

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("item_type", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("item_id", BigId, nullable=True))
        batch.add_column(sa.Column("purpose", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("recipient", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("item_version", sa.Integer(), nullable=True))
    op.create_index("ix_outbox_item_recipient", "outbox", ["item_type", "item_id", "recipient", "status"])


def downgrade() -> None:
    op.drop_index("ix_outbox_item_recipient", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        for column in ("item_version", "recipient", "purpose", "item_id", "item_type"):
            batch.drop_column(column)
