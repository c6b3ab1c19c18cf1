"""Screening: list versions, party entries, goods rules, screening checks and hits.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = ("screening",)
depends_on = None

Id = sa.String(64)
Name = sa.String(100)
Version = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "screening_lists",
        sa.Column("name", Name, primary_key=True),
        sa.Column("version", Version, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("loaded_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "screening_entries",
        sa.Column("list", Name, primary_key=True),
        sa.Column("version", Version, primary_key=True),
        sa.Column("entry_id", sa.String(200), primary_key=True),
        sa.Column("schema", sa.String(16), nullable=False),
        sa.Column("names", sa.Text, nullable=False),
        sa.Column("ids", sa.Text, nullable=False),
        sa.Column("countries", sa.Text, nullable=False),
        sa.Column("programs", sa.Text, nullable=False),
        sa.Column("remarks", sa.Text, nullable=False),
    )
    op.create_table(
        "screening_rules",
        sa.Column("list", Name, primary_key=True),
        sa.Column("version", Version, primary_key=True),
        sa.Column("n", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("hs_prefix", sa.String(10), nullable=False),
        sa.Column("destinations", sa.Text, nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=True),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_table(
        "screening_checks",
        sa.Column("event_id", Id, primary_key=True),
        sa.Column("list", Name, primary_key=True),
        sa.Column("version", Version, primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.Column("screened_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "screening_hits",
        sa.Column("event_id", Id, primary_key=True),
        sa.Column("list", Name, primary_key=True),
        sa.Column("version", Version, primary_key=True),
        sa.Column("subject", sa.String(32), primary_key=True),
        sa.Column("entry_id", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("matched", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "screening_hits",
        "screening_checks",
        "screening_rules",
        "screening_entries",
        "screening_lists",
    ):
        op.drop_table(table)
