"""meetings: series on an RRULE, their meetings stored ahead, their history; a proposal's meeting

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "meeting_series",
        sa.Column("id", BigId, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("rrule", sa.String(length=200), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("teams_link", sa.String(length=1000), nullable=True),
        sa.Column("reminder_plan", sa.JSON(), nullable=False),
        sa.Column("holiday_choices", sa.JSON(), nullable=False),
        sa.Column("stored_until", sa.Date(), nullable=False),
        sa.Column("created_by", BigId, nullable=False),
        sa.Column("agency_id", BigId, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("ended_at", Moment, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("form_token", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["members.id"]),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("form_token", name="uq_meeting_series_form_token"),
    )
    op.create_table(
        "meetings",
        sa.Column("id", BigId, nullable=False),
        sa.Column("series_id", BigId, nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", Moment, nullable=False),
        sa.Column("ends_at", Moment, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("teams_link", sa.String(length=1000), nullable=True),
        sa.Column("agency_id", BigId, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(["series_id"], ["meeting_series.id"]),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("series_id", "day", name="uq_meeting_series_day"),
    )
    op.create_index("ix_meetings_starts_at", "meetings", ["starts_at"])
    op.create_table(
        "meeting_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("series_id", BigId, nullable=True),
        sa.Column("meeting_id", BigId, nullable=True),
        sa.Column("at", Moment, nullable=False),
        sa.Column("actor_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["series_id"], ["meeting_series.id"]),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"]),
        sa.ForeignKeyConstraint(["actor_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_meeting_events_series_id", "meeting_events", ["series_id"])
    op.create_index("ix_meeting_events_meeting_id", "meeting_events", ["meeting_id"])
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("meeting_id", BigId, nullable=True))
        batch.create_foreign_key("fk_proposals_meeting_id", "meetings", ["meeting_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("proposals") as batch:
        batch.drop_constraint("fk_proposals_meeting_id", type_="foreignkey")
        batch.drop_column("meeting_id")
    op.drop_index("ix_meeting_events_meeting_id", table_name="meeting_events")
    op.drop_index("ix_meeting_events_series_id", table_name="meeting_events")
    op.drop_table("meeting_events")
    op.drop_index("ix_meetings_starts_at", table_name="meetings")
    op.drop_table("meetings")
    op.drop_table("meeting_series")
