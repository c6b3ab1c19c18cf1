"""Transit: seal bindings (seal -> MRN from an event on) and the index's cursor.

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = ("transit",)
depends_on = None

Id = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "transit_bindings",
        sa.Column("seal", Id, primary_key=True),
        sa.Column("event_seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("mrn", Id, nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_transit_bindings_mrn", "transit_bindings", ["mrn"])
    op.create_table(
        "transit_cursor",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("transit_cursor")
    op.drop_index("ix_transit_bindings_mrn", table_name="transit_bindings")
    op.drop_table("transit_bindings")
