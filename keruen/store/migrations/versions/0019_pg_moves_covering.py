"""Ledger on PostgreSQL: `ix_moves_batch` keyed (batch, event_seq, n) as 0018 made it, with the
rest of what a trace or a history reads in its leaves (INCLUDE), so a batch's moves are an
index-only scan: no random read of `moves` for each move where the visibility map is set
(`keruen.store.tidy` vacuums `moves` as it grows when the server's autovacuum is off; with it
on, the server does). A cold trace at 10 M events read a `moves` page for most of its moves
(see docs/ledger.md, "PostgreSQL trace, covering index (tenth sitting)"). SQLite's index
covers these columns already (0015): nothing changes there.

Rebuilding the index of a large ledger takes a while, with `moves` locked against writes; on a
ledger whose server runs no autovacuum, `VACUUM moves` afterwards (or the next ingest's
housekeeping) sets the visibility map the index-only scans need.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from alembic import op

from keruen.store.schema import MOVES_BY_BATCH_PG, MOVES_INCLUDED_PG

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _index(MOVES_INCLUDED_PG)


def downgrade() -> None:
    _index(())


def _index(included: tuple[str, ...]) -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.drop_index("ix_moves_batch", "moves")
    op.create_index(
        "ix_moves_batch", "moves", list(MOVES_BY_BATCH_PG), postgresql_include=list(included)
    )
