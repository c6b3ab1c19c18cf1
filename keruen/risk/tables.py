"""Risk tables on the shared metadata (migration 0005, branch "risk").

- `risk_alerts`: every finding of every rule; (rule, subject_kind, subject) is UNIQUE, so
  re-running detection can never add a duplicate. `level` is "alert" (score at or above the
  alert threshold: an officer's queue) or "signal" (below it: only feeds the risk).
- `risk_alert_refs`: the identifiers each alert cites (event, batch, tax_id, mrn), to find
  the alerts about a batch, a party or a movement.
- `risk_subjects`: one risk per subject, and the lane of each movement — a projection of the
  alerts, rewritten by every run.
- `risk_runs`: each detection run, its "now" and "since", what it added.
- `risk_cases`, `risk_case_alerts`, `risk_case_actions`: cases; an alert belongs to at most
  one case; every action is a row of the audit log, never updated; a case is decided (or
  reopened) once per round, a round being what follows each reopening (migration 0013). The
  decision that stands is the decide action no later reopen withdrew (`standing`).
"""

from __future__ import annotations

import sqlalchemy as sa

from keruen.store.schema import metadata

Ref = sa.String(200)

ACTIONS = (
    "open",
    "assign",
    "note",
    "attach",
    "hold",
    "inspect",
    "findings",
    "decide",
    "reopen",
    "document",
)
DECISIONS = ("release", "confirmed_diversion", "false_positive")  # final (hold, inspect: steps)
ACTION_CHECK = f"action IN ({', '.join(repr(a) for a in ACTIONS)})"
ONCE_PER_ROUND = sa.text("action IN ('decide', 'reopen')")

risk_runs = sa.Table(
    "risk_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_us", sa.BigInteger, nullable=False),
    sa.Column("now_us", sa.BigInteger, nullable=False),
    sa.Column("since_us", sa.BigInteger, nullable=False),
    sa.Column("alerts_added", sa.Integer, nullable=False),
    sa.Column("signals_added", sa.Integer, nullable=False),
)

risk_alerts = sa.Table(
    "risk_alerts",
    metadata,
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
    sa.Column("refs", sa.Text, nullable=False),  # JSON: event_ids, batches, tax_ids, mrns
    sa.Column("facts", sa.Text, nullable=False),  # JSON
    sa.Column("list_version", sa.String(100), nullable=True),
    sa.UniqueConstraint("rule", "subject_kind", "subject", name="uq_risk_alerts_key"),
    sa.CheckConstraint("level IN ('alert', 'signal')", name="ck_risk_alerts_level"),
    # the inbox reads a page highest score first in index order (migration 0012)
    sa.Index("ix_risk_alerts_inbox", "level", "score", "id"),
    # outcomes: alerts per rule from the index alone; the alerts naming a movement (0016)
    sa.Index("ix_risk_alerts_rules", "level", "rule"),
    sa.Index("ix_risk_alerts_subject", "subject_kind", "subject", "level"),
)

risk_alert_refs = sa.Table(
    "risk_alert_refs",
    metadata,
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("risk_alerts.id"), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("value", Ref, primary_key=True, index=True),
)

risk_subjects = sa.Table(
    "risk_subjects",
    metadata,
    sa.Column("subject_kind", sa.String(16), primary_key=True),
    sa.Column("subject", Ref, primary_key=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("raw", sa.Float, nullable=False),
    sa.Column("lane", sa.String(8), nullable=True),  # movements only
    sa.Column("random", sa.Boolean, nullable=False),
    sa.Column("rules", sa.Text, nullable=False),  # JSON array
    sa.Column("evidence", sa.Text, nullable=False),  # JSON array
    sa.Column("run_id", sa.Integer, sa.ForeignKey("risk_runs.id"), nullable=False),
)

risk_cases = sa.Table(
    "risk_cases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("opened_us", sa.BigInteger, nullable=False),
    sa.Column("opened_by", sa.String(100), nullable=False),
)

risk_case_alerts = sa.Table(
    "risk_case_alerts",
    metadata,
    sa.Column("case_id", sa.Integer, sa.ForeignKey("risk_cases.id"), primary_key=True),
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("risk_alerts.id"), primary_key=True),
    sa.UniqueConstraint("alert_id", name="uq_risk_case_alerts_alert"),
)

risk_case_actions = sa.Table(
    "risk_case_actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("risk_cases.id"), nullable=False, index=True),
    sa.Column("time_us", sa.BigInteger, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),  # JSON
    sa.Column("round", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint(ACTION_CHECK, name="ck_risk_case_actions_action"),
    sa.Index(
        "uq_risk_case_round",
        "case_id",
        "round",
        "action",
        unique=True,
        sqlite_where=ONCE_PER_ROUND,
        postgresql_where=ONCE_PER_ROUND,
    ),
)


# A document attached to a case (migration 0016): the bytes, their SHA-256, the type checked
# from the content; officers only (a declarant never sees a case).
risk_case_documents = sa.Table(
    "risk_case_documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("risk_cases.id"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("added_us", sa.BigInteger, nullable=False),
    sa.Column("added_by", sa.String(100), nullable=False),
)

# Transit passages at posts (migration 0016; keruen.risk.waits): declaration at the entry post,
# checkpoint passages and closes, one row per ledger event, kept incrementally from the ledger
# (cursor in `risk_cursors`), to measure how long movements wait at a post.
risk_passages = sa.Table(
    "risk_passages",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("event_id", Ref, nullable=False, index=True),
    sa.Column("mrn", Ref, nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),  # open | checkpoint | close
    sa.Column("post", sa.String(16), nullable=False),
    sa.Column("time_us", sa.BigInteger, nullable=False),
)

# Outcome summaries kept between requests (migration 0017; keruen.risk.summaries): the figures
# as JSON, with the inputs they were computed from (last run, alert, case action, passages).
risk_summaries = sa.Table(
    "risk_summaries",
    metadata,
    sa.Column("name", sa.String(16), primary_key=True),
    sa.Column("inputs", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("made_us", sa.BigInteger, nullable=False),
)

risk_cursors = sa.Table(
    "risk_cursors",
    metadata,
    sa.Column("name", sa.String(16), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)


def standing(decide: sa.FromClause) -> sa.ColumnElement[bool]:
    """`decide` (an alias of risk_case_actions) is a decision that stands: no reopening of
    its case came after it."""
    later = risk_case_actions.alias("reopened")
    return sa.and_(
        decide.c.action == "decide",
        ~sa.exists().where(
            later.c.case_id == decide.c.case_id,
            later.c.action == "reopen",
            later.c.id > decide.c.id,
        ),
    )
