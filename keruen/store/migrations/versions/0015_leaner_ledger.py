"""Ledger: a leaner schema for the ingest, and a trace read from one index.

- `events.ref`: the key of the events looked up by it (transit events, seal pings, receipts,
  cancels), NULL for stock events, with a partial index; it replaces the index on
  `events.key`, which indexed every event (a random B-tree insert per event for lookups that
  only ever ask for these few types).
- `moves.event_id`, and `ix_moves_batch` on (batch, event_seq, n, and every column a trace
  or a history reads): a trace reads a batch's moves from the index alone.
- SQLite: balances, moves, batches, links and cancellations become WITHOUT ROWID tables (each
  is stored in its primary key's B-tree instead of a rowid table plus the index of its key).

Rebuilding the tables of a large ledger takes a while (they are copied once).

Revision ID: 0015
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keruen.store.schema import MOVES_BY_BATCH, REF_TYPES

revision = "0015"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.String(64)
CLUSTERED_TABLES = ("balances", "moves", "batches", "links", "cancellations")
_NOT_NULL = sa.text("ref IS NOT NULL")


def upgrade() -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("ref", Id, nullable=True))
    events = sa.table("events", sa.column("type"), sa.column("key"), sa.column("ref"))
    op.execute(events.update().where(events.c.type.in_(REF_TYPES)).values(ref=events.c.key))
    op.drop_index("ix_events_key", "events")
    op.create_index(
        "ix_events_ref", "events", ["ref"], sqlite_where=_NOT_NULL, postgresql_where=_NOT_NULL
    )
    with op.batch_alter_table("moves") as batch:
        batch.add_column(sa.Column("event_id", Id, nullable=True))
    op.execute(
        "UPDATE moves SET event_id = (SELECT id FROM events WHERE events.seq = moves.event_seq)"
    )
    op.drop_index("ix_moves_batch", "moves")
    if sqlite:
        for name in CLUSTERED_TABLES:
            # the copy keeps columns and indexes; event_id becomes NOT NULL on the way
            with op.batch_alter_table(
                name, recreate="always", table_kwargs={"sqlite_with_rowid": False}
            ) as batch:
                if name == "moves":
                    batch.alter_column("event_id", existing_type=Id, nullable=False)
    else:
        op.alter_column("moves", "event_id", existing_type=Id, nullable=False)
    op.create_index("ix_moves_batch", "moves", list(MOVES_BY_BATCH))


def downgrade() -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    op.drop_index("ix_moves_batch", "moves")
    if sqlite:
        for name in CLUSTERED_TABLES:
            with op.batch_alter_table(
                name, recreate="always", table_kwargs={"sqlite_with_rowid": True}
            ) as batch:
                if name == "moves":
                    batch.drop_column("event_id")
    else:
        op.drop_column("moves", "event_id")
    op.create_index("ix_moves_batch", "moves", ["batch"])
    op.drop_index("ix_events_ref", "events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("ref")
    op.create_index("ix_events_key", "events", ["key"])
