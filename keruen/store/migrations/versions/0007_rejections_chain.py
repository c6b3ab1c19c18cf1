"""Ledger: rejections get the digest of their line (idempotent logging) and a hash chain.

A file ingested again no longer logs its rejected lines again: a rejection is identified by
(source, line, sha256 of the line). Each rejection's `hash` chains it to the one before, as
events are chained, so `keruen verify` finds a rejection altered, dropped or inserted.
Existing rows are digested and chained in id order.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keruen.store.chain import GENESIS, REJECTION_COLUMNS, chain_hash, raw_digest, row_digest

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rejections") as batch:
        batch.add_column(sa.Column("digest", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
    _backfill()
    with op.batch_alter_table("rejections") as batch:
        batch.alter_column("digest", existing_type=sa.String(64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=False)
        batch.create_index("ix_rejections_digest", ["digest"])


def _backfill() -> None:
    conn = op.get_bind()
    table = sa.table("rejections", *(sa.column(c) for c in ("id", *REJECTION_COLUMNS, "hash")))
    prev, after = GENESIS, 0
    while True:
        rows = conn.execute(
            sa.select(table).where(table.c.id > after).order_by(table.c.id).limit(5000)
        ).all()
        if not rows:
            return
        updates = []
        for row in rows:
            values = [*(getattr(row, c) for c in REJECTION_COLUMNS[:-1]), raw_digest(row.raw)]
            prev = chain_hash(prev, row_digest(values))
            updates.append({"rid": row.id, "d": values[-1], "h": prev})
        conn.execute(
            table.update()
            .where(table.c.id == sa.bindparam("rid"))
            .values(digest=sa.bindparam("d"), hash=sa.bindparam("h")),
            updates,
        )
        after = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("rejections") as batch:
        batch.drop_index("ix_rejections_digest")
        batch.drop_column("hash")
        batch.drop_column("digest")
