"""Read-only transit endpoints over `keruen.transit.service` (SPEC C2).

A declarant sees the movements it is party to (carrier or consignee of the declaration);
any other MRN answers exactly like an unknown one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from keruen.api import tenancy
from keruen.api.deps import AuditDep, ConnDep, PartyReader
from keruen.api.schemas import problems
from keruen.transit import service
from keruen.transit.errors import MovementNotFound

router = APIRouter(prefix="/v1", tags=["transit"])

Now = Annotated[
    str | None,
    Query(
        max_length=40,
        description="RFC 3339 time with an offset; default: the latest event in the ledger",
    ),
]


class Movement(BaseModel):
    model_config = ConfigDict(extra="allow")
    mrn: str
    state: str
    declared: str
    deadline: str
    entry_post: str
    exit_post: str
    findings: int


class MovementDetail(BaseModel):
    model_config = ConfigDict(extra="allow")
    mrn: str
    state: str
    declaration: dict[str, Any]
    corridor_points: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    findings: list[dict[str, Any]]


def _now(text: str | None) -> datetime | None:
    return service.parse_now(text) if text else None


@router.get("/transits", response_model=list[Movement], responses=problems(401, 403, 422, 503))
def transits(
    user: PartyReader, conn: ConnDep, audit: AuditDep, now: Now = None
) -> list[dict[str, Any]]:
    """Every declared movement with its state as of `now`."""
    views = service.movements(conn, _now(now))
    if user.tenant is not None:
        mine = tenancy.visible_transits(conn, user.tenant)
        views = [v for v in views if v.mrn in mine]
    audit.record("transits.read", user.tenant or "*", detail={"movements": len(views)})
    return [v.public() for v in views]


@router.get(
    "/transits/{mrn}", response_model=MovementDetail, responses=problems(401, 403, 404, 422, 503)
)
def transit(
    mrn: str, user: PartyReader, conn: ConnDep, audit: AuditDep, now: Now = None
) -> dict[str, Any]:
    """One movement: state, declaration, corridor, timeline and findings as of `now`."""
    when = _now(now)
    if user.tenant is not None and mrn not in tenancy.visible_transits(conn, user.tenant, [mrn]):
        audit.record("transit.read", mrn, "denied")
        raise MovementNotFound(mrn)
    detail = service.movement(conn, mrn, when).public()
    audit.record("transit.read", mrn)
    return detail
