"""inbox: privacy-centre sign-ins and the privacy inbox

Revision ID: 0005_inbox
Revises: 0004_retention
Create Date: 2026-11-22 06:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

import vowkeep.store.tables

revision = "0005_inbox"
down_revision = "0004_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "center_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("contact_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("code_expires_at", vowkeep.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", vowkeep.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verified_at", vowkeep.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("subject_ids", sa.JSON(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("expires_at", vowkeep.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", vowkeep.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_center_sessions")),
    )
    with op.batch_alter_table("center_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_center_sessions_contact_digest_created_at"), ["contact_digest", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_center_sessions_token_hash"), ["token_hash"], unique=False)

    op.create_table(
        "inquiries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", vowkeep.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", vowkeep.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", vowkeep.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_inquiries_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiries")),
    )
    with op.batch_alter_table("inquiries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inquiries_state_due_at"), ["state", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_inquiries_subject_id"), ["subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inquiries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inquiries_subject_id"))
        batch_op.drop_index(batch_op.f("ix_inquiries_state_due_at"))
    op.drop_table("inquiries")
    with op.batch_alter_table("center_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_center_sessions_token_hash"))
        batch_op.drop_index(batch_op.f("ix_center_sessions_contact_digest_created_at"))
    op.drop_table("center_sessions")
