"""joint inspections: the booking, each participating agency's part and answer, and the history

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inspections",
        sa.Column("id", BigId, nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("proposal_id", BigId, nullable=True),
        sa.Column("booked_by", BigId, nullable=False),
        sa.Column("booker_agency_id", BigId, nullable=False),
        sa.Column("business_name", sa.String(length=200), nullable=False),
        sa.Column("org_number", sa.String(length=13), nullable=True),
        sa.Column("org_is_personal", sa.Boolean(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("starts_at", Moment, nullable=False),
        sa.Column("ends_at", Moment, nullable=False),
        sa.Column("meeting_point", sa.String(length=200), nullable=False),
        sa.Column("lead_agency_id", BigId, nullable=False),
        sa.Column("agency_ids", sa.JSON(), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("shared_agency_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("ics_sequence", sa.Integer(), nullable=False),
        sa.Column("overridden", sa.JSON(), nullable=True),
        sa.Column("form_token", sa.String(length=64), nullable=True),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"]),
        sa.ForeignKeyConstraint(["booked_by"], ["members.id"]),
        sa.ForeignKeyConstraint(["booker_agency_id"], ["agencies.id"]),
        sa.ForeignKeyConstraint(["lead_agency_id"], ["agencies.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("year", "sequence", name="uq_inspection_year_sequence"),
        sa.UniqueConstraint("form_token", name="uq_inspection_form_token"),
    )
    op.create_index("ix_inspections_starts_at", "inspections", ["starts_at"])
    op.create_index("ix_inspections_org_number", "inspections", ["org_number"])
    op.create_table(
        "inspection_parts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("inspection_id", BigId, nullable=False),
        sa.Column("agency_id", BigId, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("who", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("proposed_start", Moment, nullable=True),
        sa.Column("answered_by", BigId, nullable=True),
        sa.Column("answered_at", Moment, nullable=True),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspections.id"]),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"]),
        sa.ForeignKeyConstraint(["answered_by"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("inspection_id", "agency_id", name="uq_inspection_part"),
    )
    op.create_table(
        "inspection_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("inspection_id", BigId, nullable=False),
        sa.Column("at", Moment, nullable=False),
        sa.Column("actor_id", BigId, nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("agency_id", BigId, nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspections.id"]),
        sa.ForeignKeyConstraint(["actor_id"], ["members.id"]),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inspection_events_inspection_id", "inspection_events", ["inspection_id"])


def downgrade() -> None:
    op.drop_index("ix_inspection_events_inspection_id", table_name="inspection_events")
    op.drop_table("inspection_events")
    op.drop_table("inspection_parts")
    op.drop_index("ix_inspections_org_number", table_name="inspections")
    op.drop_index("ix_inspections_starts_at", table_name="inspections")
    op.drop_table("inspections")
