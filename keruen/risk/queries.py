"""Read side of alerts: the queue an officer works, each alert with its status and identifiers.

An alert's status is derived, never stored: "open" (in no case), "in_case" (its case is not
decided), "closed" (its case was decided; the decision is shown).
"""

from __future__ import annotations

import json
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.risk import tables as rt
from keruen.risk.errors import AlertNotFound, BadInput
from keruen.risk.model import iso

Status = Literal["open", "in_case", "closed", "all"]
STATUSES = ("open", "in_case", "closed", "all")


def _query() -> sa.Select[Any]:
    a, ca, d = rt.risk_alerts, rt.risk_case_alerts, rt.risk_case_actions.alias("decision")
    return (
        sa.select(a, ca.c.case_id, d.c.detail.label("decision"))
        .outerjoin(ca, ca.c.alert_id == a.c.id)
        .outerjoin(d, sa.and_(d.c.case_id == ca.c.case_id, rt.standing(d)))
    )


def status_of(case_id: int | None, decision: str | None) -> str:
    if case_id is None:
        return "open"
    return "in_case" if decision is None else "closed"


def public(row: Any) -> dict[str, Any]:
    decision = json.loads(row.decision)["decision"] if row.decision else None
    return {
        "id": row.id,
        "rule": row.rule,
        "score": round(row.score, 4),
        "level": row.level,
        "status": status_of(row.case_id, row.decision),
        "case": row.case_id,
        "decision": decision,
        "subject_kind": row.subject_kind,
        "subject": row.subject,
        **json.loads(row.refs),
        "time": iso(row.time_us),
        "detected": iso(row.detected_us),
        "list_version": row.list_version,
        "explanation": row.explanation,
        "facts": json.loads(row.facts),
    }


def alerts(
    conn: Connection,
    status: str = "all",
    level: str = "alert",
    rule: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Alerts, highest score first, filtered by derived status, level and rule."""
    if status not in STATUSES:
        raise BadInput("status", f"{status!r} is not one of {', '.join(STATUSES)}")
    a = rt.risk_alerts.c
    q = _query().order_by(a.score.desc(), a.time_us, a.id)
    if level != "all":
        q = q.where(a.level == level)
    if rule:
        q = q.where(a.rule == rule)
    rows = (public(r) for r in conn.execute(q))
    picked = [r for r in rows if status == "all" or r["status"] == status]
    return picked[:limit] if limit else picked


def alert(conn: Connection, alert_id: int) -> dict[str, Any]:
    row = conn.execute(_query().where(rt.risk_alerts.c.id == alert_id)).first()
    if row is None:
        raise AlertNotFound([alert_id])
    return public(row)


def about(conn: Connection, value: str) -> list[dict[str, Any]]:
    """Alerts citing an identifier: an event id, batch number, tax id or MRN."""
    r = rt.risk_alert_refs.c
    ids = sa.select(r.alert_id).where(r.value == value)
    q = _query().where(rt.risk_alerts.c.id.in_(ids)).order_by(rt.risk_alerts.c.score.desc())
    return [public(row) for row in conn.execute(q)]


def counts(conn: Connection) -> dict[str, int]:
    """Alerts (not signals) per rule."""
    a = rt.risk_alerts.c
    q = sa.select(a.rule, sa.func.count()).where(a.level == "alert").group_by(a.rule)
    return {rule: n for rule, n in conn.execute(q)}


def decisions(conn: Connection) -> dict[str, int]:
    """How many alerts each kind of case decision closed."""
    actions = rt.risk_case_actions.alias("decision")
    ca, d = rt.risk_case_alerts.c, actions.c
    q = (
        sa.select(d.detail, sa.func.count())
        .join_from(actions, rt.risk_case_alerts, ca.case_id == d.case_id)
        .where(rt.standing(actions))
        .group_by(d.detail)
    )
    out: dict[str, int] = {}
    for detail, n in conn.execute(q):
        decision = json.loads(detail)["decision"]
        out[decision] = out.get(decision, 0) + n
    return out


def outcomes(conn: Connection) -> dict[str, Any]:
    """What officers decided about alerts: the precision and false-positive rate they measure."""
    by = decisions(conn)
    confirmed, false = by.get("confirmed_diversion", 0), by.get("false_positive", 0)
    judged = confirmed + false
    return {
        "alerts": sum(counts(conn).values()),
        "decided": sum(by.values()),
        "by_decision": by,
        "precision": round(confirmed / judged, 4) if judged else None,
        "false_positive_rate": round(false / judged, 4) if judged else None,
    }
