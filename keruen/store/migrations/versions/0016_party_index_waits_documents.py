"""The dashboard's derived tables and case documents:

- `event_parties` and its cursor (keruen.store.partyindex): which events name a tax id or moved
  its stock, so a party's pages read its events through an index instead of matching the text
  of every stored event;
- `risk_passages` and `risk_cursors` (keruen.risk.waits): transit declarations, checkpoint
  passages and closes at posts, to measure how long movements wait at a post;
- `risk_case_documents`: documents attached to a case (bytes, SHA-256, checked type), and the
  case log's new action `document`;
- two indexes on `risk_alerts` for the outcomes page: (level, rule), so alerts per rule are
  counted from the index alone, and (subject_kind, subject, level), so the movements an alert
  names are found per movement instead of by reading every alert.

Revision ID: 0016
Revises: 0014, 0015 (joins them; it needs only the case tables of 0013)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision: tuple[str, ...] = ("0014", "0015")
branch_labels = None
depends_on = None

Ref = sa.String(200)
OLD_CHECK = (
    "action IN ('open', 'assign', 'note', 'attach', 'hold', 'inspect', 'findings', 'decide', "
    "'reopen')"
)
NEW_CHECK = (
    "action IN ('open', 'assign', 'note', 'attach', 'hold', 'inspect', 'findings', 'decide', "
    "'reopen', 'document')"
)


def upgrade() -> None:
    op.create_table(
        "event_parties",
        sa.Column("tax_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    )
    op.create_table(
        "event_parties_cursor",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "risk_passages",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", Ref, nullable=False, index=True),
        sa.Column("mrn", Ref, nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("post", sa.String(16), nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "risk_cursors",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "risk_case_documents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "case_id", sa.Integer, sa.ForeignKey("risk_cases.id"), nullable=False, index=True
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("added_us", sa.BigInteger, nullable=False),
        sa.Column("added_by", sa.String(100), nullable=False),
    )
    with op.batch_alter_table("risk_case_actions") as batch:
        batch.drop_constraint("ck_risk_case_actions_action", type_="check")
        batch.create_check_constraint("ck_risk_case_actions_action", NEW_CHECK)
    op.create_index("ix_risk_alerts_rules", "risk_alerts", ["level", "rule"])
    op.create_index("ix_risk_alerts_subject", "risk_alerts", ["subject_kind", "subject", "level"])


def downgrade() -> None:
    op.drop_index("ix_risk_alerts_subject", "risk_alerts")
    op.drop_index("ix_risk_alerts_rules", "risk_alerts")
    with op.batch_alter_table("risk_case_actions") as batch:
        batch.drop_constraint("ck_risk_case_actions_action", type_="check")
        batch.create_check_constraint("ck_risk_case_actions_action", OLD_CHECK)
    op.drop_table("risk_case_documents")
    op.drop_table("risk_cursors")
    op.drop_table("risk_passages")
    op.drop_table("event_parties_cursor")
    op.drop_table("event_parties")
