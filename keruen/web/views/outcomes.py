"""Outcomes (SPEC C5), open to every signed-in user: alert precision and false-positive rate from
decided cases, decisions by kind, lane rates against planned, random selections and the planned
wait — `keruen.risk.service.outcomes`, the figures `keruen outcomes` prints. Aggregates only:
no party in them, nothing audited."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from keruen.risk import inbox, service
from keruen.risk.config import load
from keruen.web.core import ConnDep, Viewer, WebRoute, kept, page, state_of

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)


@router.get("/outcomes")
def outcomes(request: Request, user: Viewer, conn: ConnDep) -> Response:
    """The figures, computed again only when alerts, cases or detection runs change."""
    config = kept(request, "risk-config", 0, load)
    found = kept(
        request,
        "outcomes",
        inbox.version(conn),
        lambda: service.outcomes(state_of(request).reader, config),
    )
    waits = {str(k): v for k, v in config.lanes.wait_hours.items()}
    return page(request, "outcomes.html", o=found, waits=waits)
