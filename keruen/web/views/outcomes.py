"""Outcomes (SPEC C5), open to every signed-in user: alert precision and false-positive rate from
decided cases, decisions by kind, lane rates against planned, random selections and the planned
wait — `keruen.risk.service.outcomes`, the figures `keruen outcomes` prints. Aggregates only:
no party in them, nothing audited."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from keruen.risk import service
from keruen.risk.config import load
from keruen.web.core import Viewer, WebRoute, page, state_of

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)


@router.get("/outcomes")
def outcomes(request: Request, user: Viewer) -> Response:
    config = load()
    found = service.outcomes(state_of(request).reader, config)
    waits = {str(k): v for k, v in config.lanes.wait_hours.items()}
    return page(request, "outcomes.html", o=found, waits=waits)
