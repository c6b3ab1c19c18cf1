"""Accounts: passwords (a credential of their own), disabled users, ids never reused.

On SQLite the users table is rebuilt with AUTOINCREMENT: without it a deleted user's id went
to the next user created, and with it the deleted user's keys (an old declarant key became
an admin's). PostgreSQL's sequences never hand out an id twice.

Revision ID: 0008
Revises: 0007, 0004 (joins the api branch, which made `users`, to the ledger's)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: tuple[str, ...] = ("0007", "0004")
branch_labels = None
depends_on = None


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    # SQLite rebuilds `users` (copy, drop, rename) and enforces foreign keys: the keys that
    # refer to it step out during the rebuild and come back after it, unchanged
    keys = sa.table(
        "api_keys",
        *(sa.column(c) for c in ("id", "user_id", "label", "digest", "created_us", "revoked_us")),
    )
    bind = op.get_bind()
    saved = [dict(r._mapping) for r in bind.execute(sa.select(keys))] if _sqlite() else []
    if saved:
        bind.execute(keys.delete())
    with op.batch_alter_table(
        "users",
        recreate="always" if _sqlite() else "auto",
        table_kwargs={"sqlite_autoincrement": True},
    ) as batch:
        batch.add_column(sa.Column("password_hash", sa.String(200), nullable=True))
        batch.add_column(sa.Column("disabled_us", sa.BigInteger, nullable=True))
    if saved:
        bind.execute(keys.insert(), saved)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled_us")
        batch.drop_column("password_hash")
