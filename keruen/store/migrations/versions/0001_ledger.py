"""The ledger: events with their hash chain, batches, moves, lineage, balances, rejections.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keruen.store.schema import DecimalText, Seq

revision = "0001"
down_revision = None
branch_labels = ("ledger",)
depends_on = None

Id = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("seq", Seq, primary_key=True, autoincrement=False),
        sa.Column("id", Id, nullable=False, unique=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("key", Id, nullable=True),
        sa.Column("canonical", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("received_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_events_key", "events", ["key"])
    op.create_index("ix_events_type_time", "events", ["type", "time_us"])
    op.create_table(
        "batches",
        sa.Column("batch", Id, primary_key=True),
        sa.Column("hs", sa.String(10), nullable=False),
        sa.Column("unit", sa.String(3), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("origin", sa.String(2), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("event_id", Id, nullable=False),
    )
    op.create_table(
        "moves",
        sa.Column("event_seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("n", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("batch", Id, nullable=False),
        sa.Column("source", Id, nullable=True),
        sa.Column("target", Id, nullable=True),
        sa.Column("quantity", DecimalText, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_moves_batch", "moves", ["batch"])
    op.create_table(
        "links",
        sa.Column("input", Id, primary_key=True),
        sa.Column("output", Id, primary_key=True),
        sa.Column("event_seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_links_output", "links", ["output"])
    op.create_table(
        "balances",
        sa.Column("holder", Id, primary_key=True),
        sa.Column("batch", Id, primary_key=True),
        sa.Column("quantity", DecimalText, nullable=False),
    )
    op.create_table(
        "cancellations",
        sa.Column("target", Id, primary_key=True),
        sa.Column("event_id", Id, nullable=False),
    )
    op.create_table(
        "rejections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("received_us", sa.BigInteger, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("line", sa.Integer, nullable=True),
        sa.Column("event_id", sa.Text, nullable=True),
        sa.Column("error", sa.String(40), nullable=False),
        sa.Column("field", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
    )
