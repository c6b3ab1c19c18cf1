"""Read-only alert endpoints over `keruen.risk.queries` (SPEC C5).

A declarant sees the alerts that name its tax id (it is party to them); any other alert
answers exactly like an alert number that does not exist. Counts per rule are aggregates.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict

from keruen.api.access import Principal
from keruen.api.deps import AggregateReader, AuditDep, ConnDep, PartyReader
from keruen.api.schemas import problems
from keruen.risk import queries
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


def _party(user: Principal, alert: dict[str, Any]) -> bool:
    return user.tenant is None or user.tenant in alert.get("tax_ids", [])


@router.get("/alerts", response_model=list[AlertPublic], responses=problems(401, 403, 422, 503))
def alerts(
    user: PartyReader,
    conn: ConnDep,
    audit: AuditDep,
    status: Literal["open", "in_case", "closed", "all"] = "all",
    level: Literal["alert", "signal", "all"] = "alert",
    rule: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The alert queue, highest score first; a declarant sees the alerts that name it."""
    rows = [a for a in queries.alerts(conn, status, level, rule) if _party(user, a)][:limit]
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
) -> dict[str, Any]:
    """One alert with its explanation, facts and identifiers."""
    try:
        found = queries.alert(conn, alert_id)
    except AlertNotFound:
        found = None
    if found is None or not _party(user, found):
        audit.record("alert.read", str(alert_id), "denied" if found else "not_found")
        raise AlertNotFound([alert_id])
    audit.record("alert.read", str(alert_id))
    return found
