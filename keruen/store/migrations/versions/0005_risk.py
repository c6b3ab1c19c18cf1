"""Risk: detection runs, alerts and their identifiers, risk per subject and lanes, cases.

Revision ID: 0005
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = ("risk",)
depends_on = None

Ref = sa.String(200)
ACTION_CHECK = "action IN ('open', 'assign', 'note', 'attach', 'decide')"
DECIDE = sa.text("action = 'decide'")


def upgrade() -> None:
    op.create_table(
        "risk_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_us", sa.BigInteger, nullable=False),
        sa.Column("now_us", sa.BigInteger, nullable=False),
        sa.Column("since_us", sa.BigInteger, nullable=False),
        sa.Column("alerts_added", sa.Integer, nullable=False),
        sa.Column("signals_added", sa.Integer, nullable=False),
    )
    op.create_table(
        "risk_alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject", Ref, nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("detected_us", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("risk_runs.id"), nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("refs", sa.Text, nullable=False),
        sa.Column("facts", sa.Text, nullable=False),
        sa.Column("list_version", sa.String(100), nullable=True),
        sa.UniqueConstraint("rule", "subject_kind", "subject", name="uq_risk_alerts_key"),
        sa.CheckConstraint("level IN ('alert', 'signal')", name="ck_risk_alerts_level"),
    )
    op.create_table(
        "risk_alert_refs",
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("risk_alerts.id"), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("value", Ref, primary_key=True),
    )
    op.create_index("ix_risk_alert_refs_value", "risk_alert_refs", ["value"])
    op.create_table(
        "risk_subjects",
        sa.Column("subject_kind", sa.String(16), primary_key=True),
        sa.Column("subject", Ref, primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("raw", sa.Float, nullable=False),
        sa.Column("lane", sa.String(8), nullable=True),
        sa.Column("random", sa.Boolean, nullable=False),
        sa.Column("rules", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("risk_runs.id"), nullable=False),
    )
    op.create_table(
        "risk_cases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("opened_us", sa.BigInteger, nullable=False),
        sa.Column("opened_by", sa.String(100), nullable=False),
    )
    op.create_table(
        "risk_case_alerts",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("risk_cases.id"), primary_key=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("risk_alerts.id"), primary_key=True),
        sa.UniqueConstraint("alert_id", name="uq_risk_case_alerts_alert"),
    )
    op.create_table(
        "risk_case_actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("risk_cases.id"), nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.CheckConstraint(ACTION_CHECK, name="ck_risk_case_actions_action"),
    )
    op.create_index("ix_risk_case_actions_case_id", "risk_case_actions", ["case_id"])
    op.create_index(
        "uq_risk_case_decision",
        "risk_case_actions",
        ["case_id"],
        unique=True,
        sqlite_where=DECIDE,
        postgresql_where=DECIDE,
    )


def downgrade() -> None:
    for name in (
        "risk_case_actions",
        "risk_case_alerts",
        "risk_cases",
        "risk_subjects",
        "risk_alert_refs",
        "risk_alerts",
        "risk_runs",
    ):
        op.drop_table(name)
