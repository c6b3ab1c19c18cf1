"""Screening: what a list says of an entry beyond names, ids and countries (weak aliases,
dates of birth), one JSON object per entry; NULL for entries stored before.

Revision ID: 0009
Revises: 0002 (the screening branch, which made screening_entries)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screening_entries") as batch:
        batch.add_column(sa.Column("details", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("screening_entries") as batch:
        batch.drop_column("details")
