"""status reports: each agency's lägesbild for a meeting, and its history

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "status_reports",
        sa.Column("id", BigId, nullable=False),
        sa.Column("meeting_id", BigId, nullable=False),
        sa.Column("agency_id", BigId, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("shared_agency_ids", sa.JSON(), nullable=False),
        sa.Column("seen", sa.Text(), nullable=True),
        sa.Column("planned", sa.Text(), nullable=True),
        sa.Column("needs", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("author_id", BigId, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.Column("submitted_at", Moment, nullable=True),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"]),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"]),
        sa.ForeignKeyConstraint(["author_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "agency_id", name="uq_status_report_meeting_agency"),
    )
    op.create_table(
        "status_report_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("report_id", BigId, nullable=False),
        sa.Column("at", Moment, nullable=False),
        sa.Column("actor_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["status_reports.id"]),
        sa.ForeignKeyConstraint(["actor_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_status_report_events_report_id", "status_report_events", ["report_id"])


def downgrade() -> None:
    op.drop_index("ix_status_report_events_report_id", table_name="status_report_events")
    op.drop_table("status_report_events")
    op.drop_table("status_reports")
