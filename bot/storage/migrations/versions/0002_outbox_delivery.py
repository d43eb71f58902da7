"""outbox delivery: claim tokens with leases, dead-letter reasons, due-at-once entries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 21:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("not_before", existing_type=TIMESTAMP, nullable=True)
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("lease_until", TIMESTAMP, nullable=True))
        batch_op.add_column(sa.Column("last_attempt_at", TIMESTAMP, nullable=True))
        batch_op.add_column(sa.Column("dead_reason", sa.String(length=16), nullable=True))
        batch_op.create_index("ix_outbox_conversation", ["conversation_id", "status"], unique=False)

    # The old worker used 'sending' for a claim and kept its lease in not_before. Such an entry
    # may be on its way to Teams: give it a lease, so that the new policy decides on expiry.
    op.execute(
        "UPDATE outbox SET lease_until = not_before, claim_token = 'before-0002' WHERE status = 'sending'"
    )


def downgrade() -> None:
    op.execute("UPDATE outbox SET status = 'queued' WHERE status = 'claimed'")
    op.execute("UPDATE outbox SET not_before = lease_until WHERE status = 'sending'")
    op.execute("UPDATE outbox SET not_before = created_at WHERE not_before IS NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_conversation")
        batch_op.drop_column("dead_reason")
        batch_op.drop_column("last_attempt_at")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claim_token")
        batch_op.alter_column("not_before", existing_type=TIMESTAMP, nullable=False)
