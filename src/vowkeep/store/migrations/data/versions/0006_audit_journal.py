"""audit journal: how far the SQLite audit journal has been folded into the chain

Revision ID: 0006_audit_journal
Revises: 0005_inbox
Create Date: 2026-12-06 13:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_audit_journal"
down_revision = "0005_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_journal_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_journal_state")),
    )
    op.create_table(
        "audit_journal_writers",
        sa.Column("writer", sa.String(length=32), nullable=False),
        sa.Column("last_n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("writer", name=op.f("pk_audit_journal_writers")),
    )


def downgrade() -> None:
    op.drop_table("audit_journal_writers")
    op.drop_table("audit_journal_state")
