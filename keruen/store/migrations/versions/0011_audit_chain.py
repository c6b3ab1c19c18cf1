"""Audit log: a hash chain over its entries, so `keruen verify` finds one altered, dropped or
inserted. Existing entries are chained in id order.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keruen.store.chain import AUDIT_COLUMNS, GENESIS, chain_hash, row_digest

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
    conn = op.get_bind()
    table = sa.table("audit_log", *(sa.column(c) for c in ("id", *AUDIT_COLUMNS, "hash")))
    prev, after = GENESIS, 0
    while rows := conn.execute(
        sa.select(table).where(table.c.id > after).order_by(table.c.id).limit(5000)
    ).all():
        updates = []
        for row in rows:
            prev = chain_hash(prev, row_digest([getattr(row, c) for c in AUDIT_COLUMNS]))
            updates.append({"rid": row.id, "h": prev})
        conn.execute(
            table.update().where(table.c.id == sa.bindparam("rid")).values(hash=sa.bindparam("h")),
            updates,
        )
        after = rows[-1].id
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("hash", existing_type=sa.String(64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("hash")
