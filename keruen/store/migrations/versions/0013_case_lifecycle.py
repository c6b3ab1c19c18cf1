"""Case lifecycle: hold, inspect and findings are actions on the way to a decision, and a
decided case can be reopened; a decision (or a reopening) is unique per round, the round
being the number of reopenings before it (was: one decision per case, ever).

Revision ID: 0013
Revises: 0012, 0011 (after the risk branch's newest, which made the case tables; joins the
ledger's newest)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision: tuple[str, ...] = ("0012", "0011")
branch_labels = None
depends_on = None

OLD_CHECK = "action IN ('open', 'assign', 'note', 'attach', 'decide')"
NEW_CHECK = (
    "action IN ('open', 'assign', 'note', 'attach', 'hold', 'inspect', 'findings', 'decide', "
    "'reopen')"
)
DECIDE = sa.text("action = 'decide'")
ONCE_PER_ROUND = sa.text("action IN ('decide', 'reopen')")


def upgrade() -> None:
    op.drop_index("uq_risk_case_decision", table_name="risk_case_actions")
    with op.batch_alter_table("risk_case_actions") as batch:
        batch.add_column(sa.Column("round", sa.Integer, nullable=False, server_default="0"))
        batch.drop_constraint("ck_risk_case_actions_action", type_="check")
        batch.create_check_constraint("ck_risk_case_actions_action", NEW_CHECK)
    op.create_index(
        "uq_risk_case_round",
        "risk_case_actions",
        ["case_id", "round", "action"],
        unique=True,
        sqlite_where=ONCE_PER_ROUND,
        postgresql_where=ONCE_PER_ROUND,
    )


def downgrade() -> None:
    op.drop_index("uq_risk_case_round", table_name="risk_case_actions")
    with op.batch_alter_table("risk_case_actions") as batch:
        batch.drop_constraint("ck_risk_case_actions_action", type_="check")
        batch.create_check_constraint("ck_risk_case_actions_action", OLD_CHECK)
        batch.drop_column("round")
    op.create_index(
        "uq_risk_case_decision",
        "risk_case_actions",
        ["case_id"],
        unique=True,
        sqlite_where=DECIDE,
        postgresql_where=DECIDE,
    )
