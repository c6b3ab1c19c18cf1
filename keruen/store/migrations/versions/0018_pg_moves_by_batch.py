"""Ledger on PostgreSQL: `ix_moves_batch` on (batch, event_seq, n) only, not covering.

The covering index of 0015 (nine columns) was larger than `moves` itself and its random leaf
inserts the costliest write of a PostgreSQL ingest at scale; without a VACUUM of `moves` (none
runs where autovacuum is off) its index-only scans read every row from the table anyway. A
trace reads a batch's few moves through the narrower index and then from the table (see
docs/ledger.md, "PostgreSQL, sixth sitting"). SQLite keeps the covering index, where the
index-only read is real and the write cheap: nothing changes there.

Rebuilding the index of a large ledger takes a while, with `moves` locked against writes.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

from keruen.store.schema import MOVES_BY_BATCH, MOVES_BY_BATCH_PG

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _index(MOVES_BY_BATCH_PG)


def downgrade() -> None:
    _index(MOVES_BY_BATCH)


def _index(columns: tuple[str, ...]) -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.drop_index("ix_moves_batch", "moves")
    op.create_index("ix_moves_batch", "moves", list(columns))
