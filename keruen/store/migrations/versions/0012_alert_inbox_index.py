"""Risk: an index for the alert inbox, (level, score, id), so a page of the queue highest score
first is read in index order and stops after the page, instead of sorting every alert
(keyset paging in `keruen.risk.inbox`).

Revision ID: 0012
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_risk_alerts_inbox", "risk_alerts", ["level", "score", "id"])


def downgrade() -> None:
    op.drop_index("ix_risk_alerts_inbox", "risk_alerts")
