"""Ledger on PostgreSQL: the key of `batches` carries the rest of its row in its leaves
(INCLUDE), and `ix_links_output` the input of each edge, so what a trace reads of them is an
index-only scan: one random read a batch reached instead of two (its key, then its row), and
none of `links` for each step of a walk back. With 0019's `ix_moves_batch`, a cold trace
back read 6.1 pages, 2.2 of them `batches` (see docs/ledger.md, "PostgreSQL trace, eleventh
sitting"). SQLite stores both tables in their key's B-tree already (0015, WITHOUT ROWID), and
`ix_links_output` there holds the whole key (output, input): nothing changes there.

Index-only scans skip the table only for pages the visibility map marks all-visible:
`keruen.store.tidy` vacuums `batches` and `links` as they grow when the server's autovacuum is
off. Rebuilding the key of a large ledger's `batches` takes a while, with the table locked.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

from keruen.store.schema import BATCH_INCLUDED_PG

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _indexes(BATCH_INCLUDED_PG, ("input",))


def downgrade() -> None:
    _indexes((), ())


def _indexes(batch_included: tuple[str, ...], output_included: tuple[str, ...]) -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    include = f" INCLUDE ({', '.join(batch_included)})" if batch_included else ""
    op.execute(
        "ALTER TABLE batches DROP CONSTRAINT batches_pkey,"
        f" ADD CONSTRAINT batches_pkey PRIMARY KEY (batch){include}"
    )
    op.drop_index("ix_links_output", "links")
    op.create_index(
        "ix_links_output", "links", ["output"], postgresql_include=list(output_included)
    )
