"""Cases: officers work alerts into cases — open, assign, note, attach, decide — all audited.

Every action is one row of `risk_case_actions`, written once and never changed: the audit log
is the case's history, and its state (assignee, decision) is derived from it. The schema lets
an alert belong to one case only and a case be decided once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from keruen.risk import tables as rt
from keruen.risk.errors import AlertNotFound, BadInput, CaseError, CaseNotFound
from keruen.risk.model import iso
from keruen.risk.queries import _query, public
from keruen.risk.store import inserted_id, wall_us

DECISIONS = rt.DECISIONS


@dataclass(slots=True)
class CaseState:
    """What the audit log says about a case now."""

    status: str = "open"  # open | assigned | decided
    assignee: str | None = None
    decision: str | None = None
    notes: int = 0
    actions: list[dict[str, Any]] = field(default_factory=list)


def replay(actions: list[dict[str, Any]]) -> CaseState:
    """The state of a case from its actions, oldest first."""
    state = CaseState(actions=actions)
    for act in actions:
        detail = act["detail"]
        if act["action"] == "assign":
            state.assignee, state.status = detail["to"], "assigned"
        elif act["action"] == "note":
            state.notes += 1
        elif act["action"] == "decide":
            state.decision, state.status = detail["decision"], "decided"
    return state


def _log(conn: Connection, case_id: int, actor: str, action: str, **detail: Any) -> None:
    conn.execute(
        sa.insert(rt.risk_case_actions).values(
            case_id=case_id,
            time_us=wall_us(),
            actor=actor,
            action=action,
            detail=json.dumps(detail, ensure_ascii=False),
        )
    )


def _check_alerts(conn: Connection, alert_ids: list[int]) -> None:
    a, ca = rt.risk_alerts.c, rt.risk_case_alerts.c
    found = set(conn.scalars(sa.select(a.id).where(a.id.in_(alert_ids))))
    missing = sorted(set(alert_ids) - found)
    if missing:
        raise AlertNotFound(missing)
    taken = conn.execute(sa.select(ca.alert_id, ca.case_id).where(ca.alert_id.in_(alert_ids)))
    busy = [f"alert {r.alert_id} is in case {r.case_id}" for r in taken]
    if busy:
        raise CaseError("; ".join(busy))


def _attach(conn: Connection, case_id: int, alert_ids: list[int]) -> None:
    _check_alerts(conn, alert_ids)
    try:
        conn.execute(
            sa.insert(rt.risk_case_alerts),
            [{"case_id": case_id, "alert_id": i} for i in sorted(set(alert_ids))],
        )
    except IntegrityError as e:  # another officer took the alert meanwhile
        raise CaseError(f"alert(s) {alert_ids} are already in a case") from e


def open_case(conn: Connection, alert_ids: list[int], actor: str, title: str = "") -> int:
    """Open a case from one or more alerts; returns its number."""
    if not alert_ids:
        raise BadInput("alerts", "a case is opened from at least one alert")
    _check_alerts(conn, alert_ids)
    title = title or f"alert(s) {', '.join(map(str, sorted(set(alert_ids))))}"
    case_id = inserted_id(
        conn.execute(
            sa.insert(rt.risk_cases).values(title=title, opened_us=wall_us(), opened_by=actor)
        )
    )
    _attach(conn, case_id, alert_ids)
    _log(conn, case_id, actor, "open", alerts=sorted(set(alert_ids)), title=title)
    return case_id


def _open_state(conn: Connection, case_id: int) -> CaseState:
    state: CaseState = show(conn, case_id)["state"]
    if state.status == "decided":
        raise CaseError(f"case {case_id} was decided ({state.decision}); open a new case")
    return state


def assign(conn: Connection, case_id: int, to: str, actor: str) -> None:
    _open_state(conn, case_id)
    _log(conn, case_id, actor, "assign", to=to)


def note(conn: Connection, case_id: int, text: str, actor: str) -> None:
    if not text.strip():
        raise BadInput("note", "a note cannot be empty")
    show(conn, case_id)  # notes are allowed after a decision: they add, they change nothing
    _log(conn, case_id, actor, "note", text=text)


def attach(conn: Connection, case_id: int, alert_ids: list[int], actor: str) -> None:
    _open_state(conn, case_id)
    _attach(conn, case_id, alert_ids)
    _log(conn, case_id, actor, "attach", alerts=sorted(set(alert_ids)))


def decide(conn: Connection, case_id: int, decision: str, actor: str, reason: str = "") -> None:
    if decision not in DECISIONS:
        raise BadInput("decision", f"{decision!r} is not one of {', '.join(DECISIONS)}")
    _open_state(conn, case_id)
    try:
        _log(conn, case_id, actor, "decide", decision=decision, reason=reason)
    except IntegrityError as e:  # decided concurrently: the schema keeps one decision
        raise CaseError(f"case {case_id} was already decided") from e


def _actions(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    c = rt.risk_case_actions.c
    q = sa.select(rt.risk_case_actions).where(c.case_id == case_id).order_by(c.id)
    return [
        {
            "time": iso(r.time_us),
            "actor": r.actor,
            "action": r.action,
            "detail": json.loads(r.detail),
        }
        for r in conn.execute(q)
    ]


def show(conn: Connection, case_id: int) -> dict[str, Any]:
    """A case with its state, its alerts and its full audit log."""
    row = conn.execute(sa.select(rt.risk_cases).where(rt.risk_cases.c.id == case_id)).first()
    if row is None:
        raise CaseNotFound(case_id)
    ids = sa.select(rt.risk_case_alerts.c.alert_id).where(rt.risk_case_alerts.c.case_id == case_id)
    alerts = [public(r) for r in conn.execute(_query().where(rt.risk_alerts.c.id.in_(ids)))]
    return {
        "id": row.id,
        "title": row.title,
        "opened": iso(row.opened_us),
        "opened_by": row.opened_by,
        "state": replay(_actions(conn, case_id)),
        "alerts": alerts,
    }


def public_case(case: dict[str, Any]) -> dict[str, Any]:
    state: CaseState = case["state"]
    return {
        **{k: v for k, v in case.items() if k != "state"},
        "status": state.status,
        "assignee": state.assignee,
        "decision": state.decision,
        "actions": state.actions,
    }


def cases(conn: Connection, status: str | None = None) -> list[dict[str, Any]]:
    """Every case with its derived state, newest first."""
    ids = conn.scalars(sa.select(rt.risk_cases.c.id).order_by(rt.risk_cases.c.id.desc()))
    found = [public_case(show(conn, i)) for i in ids]
    return [c for c in found if status is None or c["status"] == status]
