"""proposals, their history, and card copies

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "proposals",
        sa.Column("id", BigId, nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("author_id", BigId, nullable=False),
        sa.Column("author_agency_id", BigId, nullable=False),
        sa.Column("business_name", sa.String(length=200), nullable=False),
        sa.Column("org_number", sa.String(length=13), nullable=True),
        sa.Column("org_is_personal", sa.Boolean(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("industry", sa.String(length=50), nullable=False),
        sa.Column("industry_other", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("agency_ids", sa.JSON(), nullable=False),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("shared_agency_ids", sa.JSON(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=True),
        sa.Column("period_to", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_agency_id"], ["agencies.id"]),
        sa.ForeignKeyConstraint(["author_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("year", "sequence", name="uq_proposal_year_sequence"),
    )
    op.create_index("ix_proposals_status", "proposals", ["status"])
    op.create_table(
        "proposal_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("proposal_id", BigId, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["members.id"]),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_proposal_events_proposal_id", "proposal_events", ["proposal_id"])
    op.create_table(
        "card_copies",
        sa.Column("id", BigId, nullable=False),
        sa.Column("item_type", sa.String(length=32), nullable=False),
        sa.Column("item_id", BigId, nullable=False),
        sa.Column("conversation_id", sa.String(length=400), nullable=False),
        sa.Column("activity_id", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("viewer_id", BigId, nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["viewer_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "activity_id", name="uq_card_copy_activity"),
    )
    op.create_index("ix_card_copies_item", "card_copies", ["item_type", "item_id"])


def downgrade() -> None:
    op.drop_index("ix_card_copies_item", table_name="card_copies")
    op.drop_table("card_copies")
    op.drop_index("ix_proposal_events_proposal_id", table_name="proposal_events")
    op.drop_table("proposal_events")
    op.drop_index("ix_proposals_status", table_name="proposals")
    op.drop_table("proposals")
