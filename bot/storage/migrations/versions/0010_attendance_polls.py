"""attendance polls: a poll's kind and meeting, a maker that may be the bot, and the substitute's
name on a ballot

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("polls") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), server_default="quick", nullable=False))
        batch.add_column(sa.Column("meeting_id", BigId, nullable=True))
        batch.add_column(sa.Column("announced_for", Moment, nullable=True))
        batch.alter_column("created_by", existing_type=BigId, nullable=True)
        batch.create_foreign_key("fk_polls_meeting_id", "meetings", ["meeting_id"], ["id"])
        batch.create_unique_constraint("uq_polls_meeting", ["meeting_id"])
    with op.batch_alter_table("poll_ballots") as batch:
        batch.add_column(sa.Column("note", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("poll_ballots") as batch:
        batch.drop_column("note")
    op.execute("DELETE FROM poll_ballots WHERE poll_id IN (SELECT id FROM polls WHERE kind = 'attendance')")
    op.execute("DELETE FROM poll_options WHERE poll_id IN (SELECT id FROM polls WHERE kind = 'attendance')")
    op.execute("DELETE FROM polls WHERE kind = 'attendance'")
    with op.batch_alter_table("polls") as batch:
        batch.drop_constraint("uq_polls_meeting", type_="unique")
        batch.drop_constraint("fk_polls_meeting_id", type_="foreignkey")
        batch.alter_column("created_by", existing_type=BigId, nullable=False)
        batch.drop_column("announced_for")
        batch.drop_column("meeting_id")
        batch.drop_column("kind")
