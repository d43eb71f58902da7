"""the schedule: tasks due at a time, one row per (kind, item), claimed by whichever process is first

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "schedule",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("item_type", sa.String(length=32), nullable=False),
        sa.Column("item_id", BigId, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "item_type", "item_id", name="uq_schedule_task"),
    )
    op.create_index("ix_schedule_due", "schedule", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_schedule_due", table_name="schedule")
    op.drop_table("schedule")
