"""quick polls: polls, their options and their ballots (one per member and poll)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column("id", BigId, nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("agency_id", BigId, nullable=True),
        sa.Column("created_by", BigId, nullable=False),
        sa.Column("creator_agency_id", BigId, nullable=False),
        sa.Column("deadline", Moment, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("secret", sa.LargeBinary(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("shown_version", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", Moment, nullable=True),
        sa.Column("eligible_count", sa.Integer(), nullable=True),
        sa.Column("form_token", sa.String(length=64), nullable=True),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("closed_at", Moment, nullable=True),
        sa.Column("closed_by", BigId, nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["members.id"]),
        sa.ForeignKeyConstraint(["creator_agency_id"], ["agencies.id"]),
        sa.ForeignKeyConstraint(["closed_by"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("form_token", name="uq_polls_form_token"),
    )
    op.create_table(
        "poll_options",
        sa.Column("poll_id", BigId, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"]),
        sa.PrimaryKeyConstraint("poll_id", "position", name="pk_poll_options"),
    )
    op.create_table(
        "poll_ballots",
        sa.Column("poll_id", BigId, nullable=False),
        sa.Column("voter", sa.String(length=64), nullable=False),
        sa.Column("choices", sa.Integer(), nullable=False),
        sa.Column("member_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("poll_id", "voter", name="pk_poll_ballots"),
    )


def downgrade() -> None:
    op.drop_table("poll_ballots")
    op.drop_table("poll_options")
    op.drop_table("polls")
