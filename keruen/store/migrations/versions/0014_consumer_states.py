"""Consumer states: a reader of the ledger (detection, transit monitoring) keeps its state
between runs with the seq and chain hash it has seen, and reads only what came after.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consumer_states",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("state", sa.LargeBinary, nullable=False),
        sa.Column("saved_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("consumer_states")
