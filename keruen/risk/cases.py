"""Cases: officers work alerts into cases — open, assign, note, attach, hold, inspect, record
the findings, decide, reopen — all audited.

Every action is one row of `risk_case_actions`, written once and never changed: the audit log
is the case's history, and its state (assignee, held goods, findings, decision) is derived
from it. Hold and inspect are states on the way to a final decision (release, confirmed
diversion, false positive). The schema lets an alert belong to one case only and a case be
decided (or reopened) once per round. Assignees are enabled officers; the actor is the
signed-in officer (API) or the configured operator (CLI), never a free name.
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

DECISIONS = rt.DECISIONS  # final decisions
STEPS = ("hold", "inspect")  # states on the way to a decision, accepted where one is asked
STATUSES = ("open", "assigned", "held", "inspecting", "inspected", "decided")


@dataclass(slots=True)
class CaseState:
    """What the audit log says about a case now.

    open -> assigned -> held / inspecting -> inspected -> decided (release, confirmed
    diversion, false positive); a decided case can be reopened (back to assigned or open)."""

    status: str = "open"
    assignee: str | None = None
    decision: str | None = None
    held: bool = False  # goods held, until released or the case decided otherwise
    findings: list[dict[str, Any]] = field(default_factory=list)
    notes: int = 0
    round: int = 0  # how many times the case was reopened
    actions: list[dict[str, Any]] = field(default_factory=list)


def _idle(state: CaseState) -> str:
    return "held" if state.held else ("assigned" if state.assignee else "open")


def _step(state: CaseState, action: str, detail: dict[str, Any]) -> None:
    if action == "assign":
        state.assignee = detail["to"]
        if state.status in ("open", "assigned"):
            state.status = "assigned"
    elif action == "note":
        state.notes += 1
    elif action == "hold":
        state.held, state.status = True, "held" if state.status != "inspecting" else "inspecting"
    elif action == "inspect":
        state.status = "inspecting"
    elif action == "findings":
        state.findings.append(detail)
        state.status = "inspected"
    elif action == "decide":
        state.decision, state.status, state.held = detail["decision"], "decided", False
    elif action == "reopen":
        state.decision, state.round = None, state.round + 1
        state.status = _idle(state)


def replay(actions: list[dict[str, Any]]) -> CaseState:
    """The state of a case from its actions, oldest first."""
    state = CaseState(actions=actions)
    for act in actions:
        _step(state, act["action"], act["detail"])
    return state


def _log(
    conn: Connection, case_id: int, actor: str, action: str, round: int = 0, **detail: Any
) -> None:
    """One action of the case's audit log; a decision or a reopening is unique per round
    (the schema refuses a second one made concurrently)."""
    try:
        conn.execute(
            sa.insert(rt.risk_case_actions).values(
                case_id=case_id,
                time_us=wall_us(),
                actor=actor,
                action=action,
                round=round,
                detail=json.dumps(detail, ensure_ascii=False),
            )
        )
    except IntegrityError as e:
        raise CaseError(f"case {case_id} changed meanwhile ({action}): look at it again") from e


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
        raise CaseError(
            f"case {case_id} was decided ({state.decision}); reopen it first (with a reason)"
        )
    return state


def check_officer(conn: Connection, name: str, field: str = "officer") -> None:
    """An assignee is an enabled officer: never a name nobody has, nor a declarant (the
    company under investigation), an analyst or an administrator."""
    from keruen.api.tables import users  # the accounts, read only (no import of the API app)

    u = users.c
    row = conn.execute(sa.select(u.role, u.disabled_us).where(u.name == name)).first()
    if row is None or row.role != "officer" or row.disabled_us is not None:
        raise BadInput(field, f"{name!r} is not an enabled officer: cases are officers' work")


def assign(conn: Connection, case_id: int, to: str, actor: str) -> None:
    _open_state(conn, case_id)
    check_officer(conn, to)
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


def hold(conn: Connection, case_id: int, actor: str, reason: str = "") -> None:
    """Hold the goods while the case is worked: a state, not a decision."""
    state = _open_state(conn, case_id)
    if state.held:
        raise CaseError(f"case {case_id}: the goods are already held")
    _log(conn, case_id, actor, "hold", reason=reason)


def inspect(conn: Connection, case_id: int, actor: str, reason: str = "") -> None:
    """Start a physical inspection; its findings are recorded before the case is decided."""
    state = _open_state(conn, case_id)
    if state.status == "inspecting":
        raise CaseError(f"case {case_id} is already being inspected")
    _log(conn, case_id, actor, "inspect", reason=reason)


def findings(conn: Connection, case_id: int, text: str, discrepancy: bool, actor: str) -> None:
    """What the inspection found (and whether it found a discrepancy with the documents)."""
    if not text.strip():
        raise BadInput("findings", "say what the inspection found")
    state = _open_state(conn, case_id)
    if state.status != "inspecting":
        raise CaseError(f"case {case_id} is not being inspected ({state.status}): inspect first")
    _log(conn, case_id, actor, "findings", text=text, discrepancy=discrepancy)


def decide(conn: Connection, case_id: int, decision: str, actor: str, reason: str = "") -> None:
    """Decide a case: release, confirmed_diversion or false_positive. `hold` and `inspect`
    are accepted here too, as the states they are (the case stays open)."""
    check_decision(decision)
    if decision in STEPS:
        (hold if decision == "hold" else inspect)(conn, case_id, actor, reason)
        return
    state = _open_state(conn, case_id)
    if state.status == "inspecting":
        raise CaseError(f"case {case_id} is being inspected: record the findings first")
    _log(conn, case_id, actor, "decide", state.round, decision=decision, reason=reason)


def check_decision(decision: str) -> None:
    if decision not in (*DECISIONS, *STEPS):
        choices = ", ".join((*DECISIONS, *STEPS))
        raise BadInput("decision", f"{decision!r} is not one of {choices}")


def reopen(conn: Connection, case_id: int, actor: str, reason: str) -> None:
    """Reopen a decided case (new facts, an appeal): its decision stops counting."""
    if not reason.strip():
        raise BadInput("reason", "say why the case is reopened")
    state: CaseState = show(conn, case_id)["state"]
    if state.status != "decided":
        raise CaseError(f"case {case_id} is not decided ({state.status}): nothing to reopen")
    _log(conn, case_id, actor, "reopen", state.round + 1, reason=reason)


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
        "held": state.held,
        "findings": state.findings,
        "reopened": state.round,
        "actions": state.actions,
    }


def cases(conn: Connection, status: str | None = None) -> list[dict[str, Any]]:
    """Every case with its derived state, newest first."""
    ids = conn.scalars(sa.select(rt.risk_cases.c.id).order_by(rt.risk_cases.c.id.desc()))
    found = [public_case(show(conn, i)) for i in ids]
    return [c for c in found if status is None or c["status"] == status]
