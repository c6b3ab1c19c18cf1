"""Read-only alert endpoints over `keruen.risk.queries` (SPEC C5).

Officers see the queue. A declarant sees no alert unless the policy allows
(`KERUEN_DECLARANT_ALERTS=own`), and then only its own (about itself or an event it acted
in), with the rule's meaning instead of the facts: never the other parties, nor the
detection's evidence. Any other alert answers exactly like an alert number that does not
exist. Counts per rule are aggregates.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Connection

from keruen.api import tenancy
from keruen.api.access import Principal
from keruen.api.deps import AggregateReader, AuditDep, ConnDep, PartyReader, StateDep
from keruen.api.schemas import problems
from keruen.risk import queries
from keruen.risk.detectors import RULES
from keruen.risk.errors import AlertNotFound

router = APIRouter(prefix="/v1", tags=["alerts"])


class AlertPublic(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    rule: str
    score: float
    level: str
    status: str
    subject_kind: str
    subject: str
    explanation: str


SHOWN = ("id", "rule", "score", "level", "status", "subject_kind", "subject", "time")


def _view(
    conn: Connection, user: Principal, policy: str, alert: dict[str, Any]
) -> dict[str, Any] | None:
    """The alert as the caller may see it, or None."""
    if user.tenant is None:
        return alert
    named = user.tenant in alert.get("tax_ids", []) or alert.get("subject") == user.tenant
    if policy != "own" or not named or not tenancy.own_alert(conn, user.tenant, alert):
        return None
    rule = alert["rule"]
    return {**{k: alert[k] for k in SHOWN}, "explanation": RULES.get(rule, rule)}


@router.get("/alerts", response_model=list[AlertPublic], responses=problems(401, 403, 422, 503))
def alerts(
    user: PartyReader,
    conn: ConnDep,
    audit: AuditDep,
    state: StateDep,
    status: Literal["open", "in_case", "closed", "all"] = "all",
    level: Literal["alert", "signal", "all"] = "alert",
    rule: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The alert queue, highest score first; a declarant its own, if the policy allows."""
    policy = state.settings.declarant_alerts
    if user.tenant is not None and policy == "none":
        found: list[dict[str, Any]] = []
    else:
        found = queries.alerts(conn, status, level, rule)
    views = (_view(conn, user, policy, a) for a in found)
    rows = [v for v in views if v is not None][:limit]
    audit.record("alerts.read", user.tenant or "*", detail={"alerts": len(rows)})
    return rows


@router.get("/alerts/counts", response_model=dict[str, int], responses=problems(401, 403, 503))
def counts(user: AggregateReader, conn: ConnDep) -> dict[str, int]:
    """Alerts (not signals) per rule: an aggregate, no party in it."""
    return queries.counts(conn)


@router.get(
    "/alerts/{alert_id}", response_model=AlertPublic, responses=problems(401, 403, 404, 422, 503)
)
def alert(
    alert_id: Annotated[int, Path(ge=1, le=2**62)],
    user: PartyReader,
    conn: ConnDep,
    audit: AuditDep,
    state: StateDep,
) -> dict[str, Any]:
    """One alert with its explanation, facts and identifiers."""
    try:
        found = queries.alert(conn, alert_id)
    except AlertNotFound:
        found = None
    view = _view(conn, user, state.settings.declarant_alerts, found) if found else None
    if view is None:
        audit.record("alert.read", str(alert_id), "denied" if found else "not_found")
        raise AlertNotFound([alert_id])
    audit.record("alert.read", str(alert_id))
    return view
