"""Outcome summaries kept between requests (keruen.risk.summaries): `risk_summaries`, one row
per summary of the outcomes page, its figures as JSON with the inputs they were computed from.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_summaries",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("made_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("risk_summaries")
