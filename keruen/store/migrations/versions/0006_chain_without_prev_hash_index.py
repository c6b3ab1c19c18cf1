"""Ledger: drop the unique index on events.prev_hash.

The chain cannot fork without it: a writer takes the writer lock and extends the head, so
its event's seq and prev_hash both come from the same head row, and the primary key on seq
refuses a second event at the same place. The index cost a random B-tree insert of a 64-byte
key per event (a third of an event row's insert time at 500,000 events, more as it outgrows
the page cache).

Revision ID: 0006
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keruen.store.schema import Seq

revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.String(64)


def _events(unique_prev_hash: bool) -> sa.Table:
    return sa.Table(
        "events",
        sa.MetaData(),
        sa.Column("seq", Seq, primary_key=True, autoincrement=False),
        sa.Column("id", Id, nullable=False, unique=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("key", Id, nullable=True),
        sa.Column("canonical", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False, unique=unique_prev_hash),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("received_us", sa.BigInteger, nullable=False),
        sa.Index("ix_events_key", "key"),
        sa.Index("ix_events_type_time", "type", "time_us"),
    )


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":  # an unnamed constraint: rebuild the table
        with op.batch_alter_table("events", copy_from=_events(False), recreate="always"):
            pass
    else:
        op.drop_constraint("events_prev_hash_key", "events", type_="unique")


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        with op.batch_alter_table("events", copy_from=_events(True), recreate="always"):
            pass
    else:
        op.create_unique_constraint("events_prev_hash_key", "events", ["prev_hash"])
